import type { ClusterDoc, PeerSyncState } from '../../src/state/cluster-doc.js';

/**
 * Runs the sync protocol between two documents, `x` speaking first, until neither has anything
 * to say (at most 10 rounds). With `states` it continues those sessions (x's state for y, y's for
 * x) and leaves them to the caller; without, it uses fresh ones and frees them.
 */
export function syncDocs(x: ClusterDoc, y: ClusterDoc, states?: readonly [PeerSyncState, PeerSyncState]): void {
  const [sx, sy] = states ?? [x.newSyncState(), y.newSyncState()];
  for (let i = 0; i < 10; i++) {
    const m = x.generateSyncMessage(sx);
    if (m !== null) y.receiveSyncMessage(sy, m);
    const n = y.generateSyncMessage(sy);
    if (n !== null) x.receiveSyncMessage(sx, n);
    if (m === null && n === null) break;
  }
  if (states === undefined) {
    sx.free();
    sy.free();
  }
}
