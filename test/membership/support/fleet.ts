import { FailureDetector } from '../../../src/membership/detector.js';
import type { MembershipConfig } from '../../../src/membership/config.js';
import type { MemberChange, PeerState, Verdict } from '../../../src/membership/events.js';
import { ManualClock } from '../../../src/seams/manual-clock.js';
import { SeededRandom } from '../../../src/seams/seeded-random.js';
import { fastTestMembership } from '../../support/fast-membership.js';
import { TestNetwork } from './test-network.js';

export const CLUSTER = 'test';

export type FleetEvent = ({ kind: 'verdict' } & Verdict & { observer: string }) | ({ kind: 'change' } & MemberChange & { observer: string });

export interface FleetOptions {
  n: number;
  seed?: number | string;
  /** @default fastTestMembership() (test/support/fast-membership.ts) */
  config?: MembershipConfig;
  latencyMs?: number;
  /** Each detector's state digest (FailureDetectorInit.stateDigest); unset: none is sent. */
  stateDigest?: (id: string) => string;
}

/** N detectors on one TestNetwork and ManualClock, all members of each other, started. */
export class Fleet {
  readonly clock = new ManualClock(0);
  readonly network: TestNetwork;
  readonly ids: string[];
  readonly detectors = new Map<string, FailureDetector>();
  readonly events: FleetEvent[] = [];
  readonly config: MembershipConfig;
  /** `state` events: a probe's answer carried the target's digest. */
  readonly states: (PeerState & { observer: string })[] = [];
  readonly #random: SeededRandom;
  readonly #stateDigest: ((id: string) => string) | undefined;

  constructor(options: FleetOptions) {
    this.network = new TestNetwork(this.clock, options.latencyMs ?? 5);
    this.config = options.config ?? fastTestMembership();
    this.#stateDigest = options.stateDigest;
    this.#random = new SeededRandom(options.seed ?? 1);
    this.ids = Array.from({ length: options.n }, (_, i) => `node-${String(i).padStart(3, '0')}`);
    for (const id of this.ids) this.boot(id, 0);
  }

  /** Starts a fresh detector (fresh state) for `id`; `generation` makes its Random distinct. */
  boot(id: string, generation: number): FailureDetector {
    const detector = new FailureDetector({
      self: id,
      cluster: CLUSTER,
      mesh: this.network.mesh(id),
      clock: this.clock,
      random: this.#random.fork(`${id}#${generation}`),
      config: this.config,
      ...(this.#stateDigest === undefined ? {} : { stateDigest: () => this.#stateDigest!(id) }),
    });
    detector.setMembers(this.ids);
    detector.on('state', (s) => this.states.push({ observer: id, ...s }));
    detector.on('verdict', (v) => this.events.push({ kind: 'verdict', observer: id, ...v }));
    detector.on('change', (c) => this.events.push({ kind: 'change', observer: id, ...c }));
    this.detectors.set(id, detector);
    detector.start();
    return detector;
  }

  get(id: string): FailureDetector {
    const d = this.detectors.get(id);
    if (d === undefined) throw new Error(`no detector ${id}`);
    return d;
  }

  /** Kills the process: its detector stops and the network swallows its traffic. */
  crash(id: string): void {
    this.get(id).stop();
    this.network.crash(id);
  }

  /** Runs virtual time forward by `ms`, letting promise continuations run after every timer. */
  async run(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    for (;;) {
      const due = this.clock.nextDueTime();
      if (due === undefined || due > end) break;
      this.clock.runNext();
      await settle();
    }
    this.clock.advance(end - this.clock.now());
    await settle();
  }

  /** Runs until `predicate` holds (checked after every timer) or `maxMs` passes; returns the time it held, or undefined. */
  async runUntil(predicate: () => boolean, maxMs: number): Promise<number | undefined> {
    const end = this.clock.now() + maxMs;
    if (predicate()) return this.clock.now();
    for (;;) {
      const due = this.clock.nextDueTime();
      if (due === undefined || due > end) break;
      this.clock.runNext();
      await settle();
      if (predicate()) return this.clock.now();
    }
    this.clock.advance(end - this.clock.now());
    await settle();
    return predicate() ? this.clock.now() : undefined;
  }

  /** Status of `target` as seen by every running node except `target` (and `except`). */
  viewsOf(target: string, except: readonly string[] = []): string[] {
    return this.ids.filter((id) => id !== target && !except.includes(id)).map((id) => this.get(id).status(target)?.status ?? 'unknown');
  }

  stopAll(): void {
    for (const d of this.detectors.values()) d.stop();
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
