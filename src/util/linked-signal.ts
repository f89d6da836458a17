/**
 * A short-lived AbortSignal that aborts when any of its sources does — a request's deadline,
 * its caller's signal, the mesh's lifetime — and lets go of the sources when the work ends.
 *
 * Why not `AbortSignal.any`: on Node 20 the signal it makes stays referenced by every source for
 * as long as that source lives, and for good once an abort listener is added to it (Node keeps
 * such a signal alive in case it fires). A daemon's lifetime signal lives for months, so a
 * request combined with it leaked ~1.3 KB each, never freed (measured on Node 20.20: 254 MB
 * after 200,000 requests; 12 MB without the listener). Here the listeners come off the sources
 * in {@link LinkedSignal.dispose}, after which nothing long-lived refers to the signal.
 */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Removes this signal's listeners from its sources. Call when the work it guards has ended. Idempotent. */
  dispose(): void;
}

export function linkedSignal(sources: readonly AbortSignal[]): LinkedSignal {
  const controller = new AbortController();
  const aborted = sources.find((source) => source.aborted);
  if (aborted !== undefined) {
    controller.abort(aborted.reason);
    return { signal: controller.signal, dispose: () => undefined };
  }
  const onAbort = (event: Event): void => {
    dispose();
    controller.abort((event.target as AbortSignal).reason);
  };
  const dispose = (): void => {
    for (const source of sources) source.removeEventListener('abort', onAbort);
  };
  for (const source of sources) source.addEventListener('abort', onAbort);
  return { signal: controller.signal, dispose };
}
