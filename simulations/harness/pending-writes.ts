/**
 * Record writes made without a private copy of a shared document: how a simulated fleet's node
 * writes its member, role and verdict records (SharedHandle.defer, shared-handle.ts).
 *
 * Why: a shared document handle may not be written in place (other nodes hold it), so a write
 * used to fork it — a copy of the whole document, ~7 MB at 1,000 members — and that node held
 * its private copy until the gossip it applied next made it equal to the others' again. When a
 * 1,000-node fleet records its roles, hundreds of nodes write within one gossip window, and the
 * copies filled Automerge's 4 GiB wasm memory (docs/SIMULATION.md, "Where the time goes at
 * scale"). Instead, the change is encoded here from what the shared handle says — the map's
 * object id, the ops the new value supersedes, the document's highest op — and kept beside the
 * handle (DocHandle.pending) until the node next applies changes, when it goes in with them
 * (most often to a content another node has built already, so at no cost).
 *
 * The change is byte-for-byte the one Automerge's own commit would make
 * (test/sim/pending-writes.test.ts checks this), so peers, hashes and traces cannot tell the
 * difference.
 */
import { Automerge, type Backend } from '../../src/state/automerge-backend.js';
import { verifyChange } from '../../src/state/change-bytes.js';
import type { DeferredWrite, RecordPut } from '../../src/state/doc-handle.js';

/** One record put, encoded and waiting to be applied to the document it was written on. */
export interface PendingWrite extends DeferredWrite {
  /** Op id of the value it puts (`<counter>@<actor>`): what the next write of the key supersedes. */
  readonly opId: string;
  /** Its one op's counter: the document's highest op once it is applied. */
  readonly maxOp: number;
}

/**
 * Encodes `put` as a change on top of `backend` and the writes already pending on it (in the
 * order made; `put.heads` are their heads), as Automerge's commit would: its dependencies are
 * those heads and this actor's previous change, its op the next after the highest op there, and
 * it supersedes the value the key holds there (every conflicting value, or the last pending
 * write of the same key).
 * `handleMaxOp` is {@link maxOpOf}(backend), for a caller that keeps it by content.
 */
export function encodeRecordPut(backend: Backend, pending: readonly PendingWrite[], put: RecordPut, handleMaxOp = maxOpOf(backend)): PendingWrite {
  const heads = put.heads;
  const maxOp = pending.reduce((max, w) => Math.max(max, w.maxOp), handleMaxOp);
  const previous = pending.findLast((w) => w.map === put.map && w.key === put.key);
  const pred = previous !== undefined ? [previous.opId] : (backend.getAll(put.obj, put.key) as [string, unknown, string][]).map((entry) => entry[2]);
  const startOp = maxOp + 1;
  const deps = put.previous === undefined || heads.includes(put.previous) ? [...heads] : [...heads, put.previous].sort();
  const change = Automerge.encodeChange({
    actor: put.actor,
    seq: put.seq,
    startOp,
    time: put.time,
    message: put.message,
    deps,
    ops: [{ action: 'set', obj: put.obj, key: put.key, value: put.text, pred }],
  } as Automerge.DecodedChange);
  const hash = verifyChange(change);
  return { change, hash, deps, map: put.map, key: put.key, text: put.text, opId: `${startOp}@${put.actor}`, maxOp: startOp };
}

/** The highest op counter in `backend`: the highest of its heads' (every other change is their ancestor). */
export function maxOpOf(backend: Backend): number {
  return backend.getHeads().reduce((max, head) => Math.max(max, backend.getChangeMetaByHash(head)?.maxOp ?? 0), 0);
}
