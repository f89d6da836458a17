/**
 * Synthetic cluster history for benchmarks: `members` nodes each join (write their own member
 * record with their own actor, as real nodes do) and then make `updates` record updates in
 * turn (a label and the incarnation change), all through ClusterDoc's real writers.
 *
 * Each member writes on its own copy of the document (genesis + its own changes), so its join
 * depends on genesis and each update on its own previous change. A live cluster's history is
 * more linear (a write depends on whatever the writer had merged), which changes the
 * dependency graph but not the number or size of changes; the caller collapses the heads with
 * one ordinary write after merging.
 */
import { ClusterDoc } from '../../src/state/cluster-doc.js';
import type { StateLogger } from '../../src/state/logger.js';
import type { Member } from '../../src/state/schema.js';
import { ManualClock } from '../../src/seams/manual-clock.js';
import type { Random } from '../../src/seams/random.js';

export interface SyntheticHistory {
  /** Member ids, in join order. */
  ids: string[];
  /** One join change per member. */
  joins: Uint8Array[];
  /** Update changes, in the order they were made. */
  updates: Uint8Array[];
}

const SILENT: StateLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** A member record of realistic size for member `i`. */
export function syntheticMember(i: number, at: number): Omit<Member, 'id'> {
  return {
    name: `edge-${String(i).padStart(4, '0')}`,
    addresses: [`/ip4/10.${(i >> 8) & 255}.${i & 255}.10/tcp/7496`],
    facts: { cpus: 2 + (i % 4) * 2, memoryMB: 2048 * (1 + (i % 4)), diskGB: 32, arch: i % 3 === 0 ? 'arm64' : 'amd64' },
    labels: { zone: `z${i % 3}`, rack: `r${i % 10}` },
    joinedAt: at,
    leftAt: null,
    incarnation: 0,
  };
}

export function buildHistory(cluster: string, members: number, updates: number, random: Random): SyntheticHistory {
  const clock = new ManualClock(1_700_000_000_000);
  const docs: ClusterDoc[] = [];
  const ids: string[] = [];
  const joins: Uint8Array[] = [];
  const made: Uint8Array[] = [];
  let sink: Uint8Array[] = joins;
  for (let i = 0; i < members; i++) {
    const id = `bench-member-${String(i).padStart(4, '0')}`;
    const doc = ClusterDoc.create({ cluster, self: id, clock, random: random.fork(id), logger: SILENT });
    doc.onChange((e) => {
      if (e.change !== undefined) sink.push(e.change);
    });
    doc.writeOwnMember(syntheticMember(i, clock.now()));
    docs.push(doc);
    ids.push(id);
  }
  sink = made;
  for (let k = 0; k < updates; k++) {
    clock.advance(1_000);
    const doc = docs[k % members] as ClusterDoc;
    const current = doc.member(doc.self);
    if (current === undefined) throw new Error(`${doc.self} lost its record`);
    const { id: _id, ...record } = current;
    doc.writeOwnMember({ ...record, incarnation: record.incarnation + 1, labels: { ...record.labels, rev: String(k) } });
  }
  return { ids, joins, updates: made };
}

/** Applies `changes` to `doc` in batches (one `applyChanges` per batch). */
export function applyInBatches(doc: ClusterDoc, changes: readonly Uint8Array[], batch = 500): void {
  for (let i = 0; i < changes.length; i += batch) doc.applyChanges(changes.slice(i, i + batch));
}
