/**
 * Deterministic genesis: the first change of every cluster document.
 *
 * Two nodes that each create `members = {}` create two different map objects, and a merge
 * silently hides one of them. So every node builds the genesis change byte-for-byte identically:
 * actor derived from the cluster name, timestamp 0, fixed message, fixed content. Merging two
 * independently created documents then yields one `members` map.
 *
 * The genesis bytes are a cluster's identity: changing anything here (or an Automerge encoding
 * change) makes nodes form a different cluster. A golden test pins the hash.
 */
import { createHash } from 'node:crypto';
import { Automerge } from './automerge-backend.js';
import { InvalidClusterNameError } from './errors.js';
import { SCHEMA_VERSION, TOP_LEVEL_MAPS } from './schema.js';

const CLUSTER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Driver record maps created at genesis (see below). */
export const GENESIS_DRIVER_MAPS = ['pace'] as const;

/** Throws {@link InvalidClusterNameError} unless `cluster` is 1-63 of [a-z0-9-]. */
export function assertClusterName(cluster: string): void {
  if (!CLUSTER_NAME.test(cluster)) throw new InvalidClusterNameError(cluster);
}

/** The fixed genesis actor of `cluster`: the first 16 bytes of sha256("pace/genesis/v1/" + cluster), hex. */
export function genesisActor(cluster: string): string {
  assertClusterName(cluster);
  return createHash('sha256').update(`pace/genesis/v1/${cluster}`).digest('hex').slice(0, 32);
}

export interface Genesis {
  /** The encoded genesis change (identical on every node). */
  change: Uint8Array;
  /** Its hash: every valid document of this cluster contains it. */
  hash: string;
}

const cache = new Map<string, Genesis>();

/** Builds (and caches) the genesis change of `cluster`. */
export function genesis(cluster: string): Genesis {
  const hit = cache.get(cluster);
  if (hit !== undefined) return hit;
  let doc = Automerge.init<Record<string, unknown>>({ actor: genesisActor(cluster) });
  doc = Automerge.change(doc, { time: 0, message: 'pace genesis' }, (d) => {
    d['meta'] = { cluster: new Automerge.ImmutableString(cluster), schema: SCHEMA_VERSION };
    for (const key of TOP_LEVEL_MAPS) d[key] = {};
    // PACE's own control-plane records live in drivers.pace: created here, once, so two nodes
    // writing the first record concurrently never create two competing maps (one would be lost).
    (d['drivers'] as Record<string, unknown>)[GENESIS_DRIVER_MAPS[0]] = {};
  });
  const change = Automerge.getLastLocalChange(doc);
  if (change === undefined) throw new Error('genesis produced no change');
  const result: Genesis = { change, hash: Automerge.decodeChange(change).hash };
  Automerge.free(doc);
  cache.set(cluster, result);
  return result;
}
