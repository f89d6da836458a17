import type { MemberStatus } from './status.js';

/**
 * A liveness verdict for the cluster document: `down` when a member is declared failed, or
 * `alive` when this node refutes a claim about itself. The daemon writes it into the document
 * unless the document already holds a verdict for `node` at an incarnation >= `incarnation`
 * (several nodes may emit the same verdict; writing is idempotent by that rule).
 */
export interface Verdict {
  readonly node: string;
  readonly status: 'down' | 'alive';
  readonly incarnation: number;
  /** The node that declared it: the suspicion expired there, or the refuting node itself. */
  readonly by: string;
  /** For `alive`: the claim about self that was refuted. */
  readonly refuted?: 'suspect' | 'down' | 'left';
  /** Clock time at which this node emitted it. */
  readonly at: number;
}

/** A member's status or incarnation changed in this node's view. */
export interface MemberChange {
  readonly node: string;
  readonly previous: MemberStatus;
  readonly status: MemberStatus;
  readonly incarnation: number;
  readonly at: number;
}

/** A direct probe's answer carried the target's state digest (see FailureDetectorInit.stateDigest). */
export interface PeerState {
  readonly node: string;
  readonly digest: string;
}

export interface MembershipEvents {
  verdict: Verdict;
  change: MemberChange;
  state: PeerState;
}

export type MembershipEventName = keyof MembershipEvents;
export type MembershipListener<E extends MembershipEventName> = (event: MembershipEvents[E]) => void;

/** Minimal pino-compatible logger the detector writes to (a pino child logger fits). */
export interface MembershipLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * Typed listener registry. Listeners run synchronously, in registration order; one that throws
 * is reported through `onError` and does not stop the others.
 */
export class Emitter {
  readonly #listeners: { [E in MembershipEventName]: Set<MembershipListener<E>> } = { verdict: new Set(), change: new Set(), state: new Set() };

  constructor(private readonly onError: (event: MembershipEventName, err: unknown) => void) {}

  on<E extends MembershipEventName>(event: E, listener: MembershipListener<E>): () => void {
    const set = this.#listeners[event] as Set<MembershipListener<E>>;
    const wrapped: MembershipListener<E> = (e) => listener(e);
    set.add(wrapped);
    return () => {
      set.delete(wrapped);
    };
  }

  emit<E extends MembershipEventName>(event: E, payload: MembershipEvents[E]): void {
    for (const listener of [...(this.#listeners[event] as Set<MembershipListener<E>>)]) {
      try {
        listener(payload);
      } catch (err) {
        this.onError(event, err);
      }
    }
  }
}
