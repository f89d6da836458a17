/**
 * Listener registry for Mesh events. Delivery is synchronous, in registration order; a
 * listener that throws is reported through `onListenerError` and does not stop delivery to the
 * others (the Mesh concurrency contract).
 */
import type { MeshEventName, MeshEvents, MeshListener } from './mesh.js';

export class MeshEventHub {
  private readonly listeners = new Map<MeshEventName, Set<(event: never) => void>>();

  constructor(private readonly onListenerError: (event: MeshEventName, err: unknown) => void) {}

  on<E extends MeshEventName>(event: E, listener: MeshListener<E>): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const entry = listener as (event: never) => void;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  emit<E extends MeshEventName>(event: E, payload: MeshEvents[E]): void {
    const set = this.listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as MeshListener<E>)(payload);
      } catch (err) {
        this.onListenerError(event, err);
      }
    }
  }
}
