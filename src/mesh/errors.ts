/**
 * Typed errors raised by the libp2p mesh and its helpers. Each class has a stable `name` so
 * callers branch on `err.name` rather than on message text. `MeshRequestError` (the error
 * `Mesh.request` throws) lives in `mesh.ts` because every Mesh implementation shares it.
 */

/** A mesh setting is invalid (bad multiaddr, bootstrap address without `/p2p/`, bad limit...). */
export class MeshConfigError extends Error {
  override readonly name = 'MeshConfigError';
  constructor(readonly field: string, reason: string) {
    super(`invalid mesh setting ${field}: ${reason}`);
  }
}

/** An operation that needs a running mesh was called before `start()` or after `stop()`. */
export class MeshNotStartedError extends Error {
  override readonly name = 'MeshNotStartedError';
  constructor(operation: string) {
    super(`mesh is not started: cannot ${operation}`);
  }
}

/** `publish` was given more bytes than `maxMessageBytes`; nothing was sent. */
export class MeshMessageTooLargeError extends Error {
  override readonly name = 'MeshMessageTooLargeError';
  constructor(readonly topic: string, readonly size: number, readonly limit: number) {
    super(`message of ${size} bytes on ${topic} exceeds the ${limit}-byte limit`);
  }
}

/** `handle` was called for a protocol that already has a handler. */
export class MeshProtocolInUseError extends Error {
  override readonly name = 'MeshProtocolInUseError';
  constructor(readonly protocol: string) {
    super(`protocol ${protocol} already has a handler; call unhandle first`);
  }
}

/** The stored node key cannot be decoded. The file is left untouched for inspection. */
export class NodeKeyError extends Error {
  override readonly name = 'NodeKeyError';
  constructor(readonly file: string, reason: string, options?: { cause?: unknown }) {
    super(`node key ${file} is unreadable: ${reason}; move it aside to create a new identity (the peer id will change)`, options);
  }
}

/** A swarm (network) key is not in the `/key/swarm/psk/1.0.0/` format. */
export class SwarmKeyError extends Error {
  override readonly name = 'SwarmKeyError';
  constructor(reason: string) {
    super(`invalid swarm key: ${reason}`);
  }
}

/** A length-prefixed frame from a peer declared more bytes than allowed. */
export class FrameTooLargeError extends Error {
  override readonly name = 'FrameTooLargeError';
  constructor(readonly size: number, readonly limit: number) {
    super(`frame of ${size} bytes exceeds the ${limit}-byte limit`);
  }
}

/** A frame from a peer is not well formed (bad length prefix, trailing bytes, early end). */
export class MalformedFrameError extends Error {
  override readonly name = 'MalformedFrameError';
  constructor(reason: string) {
    super(`malformed frame: ${reason}`);
  }
}
