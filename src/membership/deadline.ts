import type { Clock } from '../seams/clock.js';
import type { Mesh, PeerId } from '../mesh/mesh.js';

/**
 * `mesh.request` bounded by the detector's own Clock: given up after `timeoutMs` even if the
 * mesh's timeout runs on another clock or ignores the signal, and when `signal` aborts
 * (detector stopped). Resolves with the response bytes, or undefined on any failure — the
 * caller only needs "answered in time or not". Never rejects.
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
    const controller = new AbortController();
    let settled = false;
    const finish = (result: Uint8Array | undefined): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onAbort = (): void => {
      controller.abort(signal.reason);
      finish(undefined);
    };
    const timer = clock.setTimer(timeoutMs, () => {
      controller.abort(new Error(`timeout after ${timeoutMs} ms`));
      finish(undefined);
    });
    signal.addEventListener('abort', onAbort, { once: true });
    mesh.request(peer, protocol, data, { signal: controller.signal, timeoutMs }).then(
      (response) => finish(response),
      () => finish(undefined),
    );
  });
}
