/**
 * A bare libp2p node (memory or TCP transport) for hostile-peer tests: it speaks the same
 * transport/encryption/muxer stack as the mesh but lets a test write arbitrary bytes on a
 * request protocol stream.
 */
import { noise } from '@libp2p/noise';
import { memory } from '@libp2p/memory';
import { tcp } from '@libp2p/tcp';
import { yamux } from '@libp2p/yamux';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import type { Libp2p } from 'libp2p';
import { FrameDecoder } from '../../src/mesh/framing.js';
import { silentComponentLogger } from '../../src/mesh/libp2p-logging.js';
import { decodeResponse } from '../../src/mesh/request-wire.js';
import type { ResponseEnvelope } from '../../src/mesh/request-wire.js';

export async function startRawPeer(transport: 'memory' | 'tcp' = 'memory'): Promise<Libp2p> {
  return createLibp2p({ transports: [transport === 'tcp' ? tcp() : memory()], connectionEncrypters: [noise()], streamMuxers: [yamux()], logger: silentComponentLogger() });
}

/**
 * Opens `protocol` on `target`, writes `bytes`, optionally half-closes, and collects whatever
 * comes back until the remote closes or resets the stream (or 20 s pass).
 */
export async function sendRaw(node: Libp2p, target: string, protocol: string, bytes: Uint8Array, options: { close: boolean }): Promise<{ reply: Uint8Array; ended: 'closed' | 'reset' }> {
  const stream = await node.dialProtocol(multiaddr(target), protocol, { signal: AbortSignal.timeout(20_000) });
  stream.send(bytes);
  if (options.close) await stream.close();
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk instanceof Uint8Array ? chunk : chunk.subarray());
    return { reply: Uint8Array.from(Buffer.concat(chunks)), ended: 'closed' };
  } catch {
    return { reply: Uint8Array.from(Buffer.concat(chunks)), ended: 'reset' };
  }
}

/** The response envelope in the first frame of a raw reply, or undefined when there is none. */
export function envelopeOf(reply: Uint8Array, maxBytes = 1 << 20): ResponseEnvelope | undefined {
  const [frame] = new FrameDecoder(maxBytes).push(reply);
  return frame === undefined ? undefined : decodeResponse(frame);
}
