import type { Clock } from '../seams/clock.js';
import type { Mesh, PeerId } from '../mesh/mesh.js';

/**
 * `mesh.request` bounded by the detector's own Clock: given up after `timeoutMs` even if the
 * mesh's timeout runs on another clock or ignores it. `signal` (the detector's lifetime) goes
 * to the mesh, which drops the request when it aborts. Resolves with the response bytes, or
 * undefined on any failure — the caller only needs "answered in time or not". Never rejects.
 *
 * No AbortController of its own per request: creating one, and listening on `signal`, cost a
 * tenth of a large simulated fleet's steady state; the mesh's own timeout (the same `timeoutMs`)
 * releases a request this gives up on.
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
      resolve(result);
    };
    const timer = clock.setTimer(timeoutMs, () => finish(undefined));
    mesh.request(peer, protocol, data, { signal, timeoutMs }).then(
      (response) => finish(signal.aborted ? undefined : response),
      () => finish(undefined),
    );
  });
}
