import type { Clock } from '../seams/clock.js';
import type { Mesh, PeerId } from '../mesh/mesh.js';

/**
 * `mesh.request` bounded by the detector's own Clock: given up after `timeoutMs` even if the
 * mesh's timeout runs on another clock or ignores it, and at once when `signal` (the detector's
 * lifetime) aborts. Resolves with the response bytes, or undefined on any failure — the caller
 * only needs "answered in time or not". Never rejects.
 *
 * The signal is not handed to the mesh, and no request listens on it alone: an AbortController
 * per request, and then an abort listener per request, each cost a tenth of a large simulated
 * fleet's steady state. Requests waiting on one signal share one listener ({@link giveUpOn});
 * the mesh's own timeout (the same `timeoutMs`) releases a request given up here, and stopping
 * the mesh releases them all.
 */
export function requestWithin(
  mesh: Mesh,
  clock: Clock,
  peer: PeerId,
  protocol: string,
  data: Uint8Array,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Uint8Array | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<Uint8Array | undefined>((resolve) => {
    let settled = false;
    const finish = (result: Uint8Array | undefined): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      forget();
      resolve(result);
    };
    const timer = clock.setTimer(timeoutMs, () => finish(undefined));
    const forget = giveUpOn(signal, () => finish(undefined));
    mesh.request(peer, protocol, data, { timeoutMs }).then(
      (response) => finish(signal.aborted ? undefined : response),
      () => finish(undefined),
    );
  });
}

/** What to run when a signal aborts, per signal: its one 'abort' listener runs them all. */
const onAbort = new WeakMap<AbortSignal, Set<() => void>>();

/** Runs `giveUp` when `signal` aborts (it has not yet); returns the function that cancels that. */
function giveUpOn(signal: AbortSignal, giveUp: () => void): () => void {
  let pending = onAbort.get(signal);
  if (pending === undefined) {
    const created = new Set<() => void>();
    signal.addEventListener('abort', () => {
      for (const run of [...created]) run();
      created.clear();
    }, { once: true });
    onAbort.set(signal, created);
    pending = created;
  }
  const set = pending;
  set.add(giveUp);
  return () => set.delete(giveUp);
}
