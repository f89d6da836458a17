/**
 * Typed errors of the state layer. Callers branch on `err.name`, which is stable.
 */

/** The cluster name cannot be used (it becomes part of topics, protocols and the genesis). */
export class InvalidClusterNameError extends Error {
  override readonly name = 'InvalidClusterNameError';
  constructor(readonly cluster: string) {
    super(`invalid cluster name ${JSON.stringify(cluster)}: use 1-63 of [a-z0-9-], starting with a letter or digit`);
  }
}

/** Saved bytes could not be turned into this cluster's document. */
export class DocumentLoadError extends Error {
  override readonly name = 'DocumentLoadError';
  constructor(readonly reason: 'undecodable' | 'foreign-cluster' | 'bad-header' | 'bad-checksum', detail: string, options?: { cause?: unknown }) {
    super(`cannot load cluster document (${reason}): ${detail}`, options);
  }
}

/** Why remote bytes were refused. Stable strings: they are counter names in `stats()`. */
export type RejectReason = 'oversized' | 'undecodable' | 'unsupported-version' | 'unexpected-type' | 'bad-checksum' | 'rejected-by-automerge';

/** Remote changes or a sync message were refused; the document is unchanged. */
export class ChangeRejectedError extends Error {
  override readonly name = 'ChangeRejectedError';
  constructor(readonly reason: RejectReason, detail: string, options?: { cause?: unknown }) {
    super(`rejected (${reason}): ${detail}`, options);
  }
}

/** A writer found the document's top-level layout damaged (e.g. a peer replaced `members`). */
export class DocumentShapeError extends Error {
  override readonly name = 'DocumentShapeError';
  constructor(readonly map: string) {
    super(`top-level ${map} is not a map; refusing to write (it would hide other nodes' entries)`);
  }
}
