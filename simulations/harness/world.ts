/**
 * One simulated world: a seed, the scheduler (the one virtual clock), the trace, and the
 * network, wired the same way every time so a seed means the same thing in every test,
 * scenario and replay.
 */
import { SeededRandom, type Seed } from '../../src/seams/seeded-random.js';
import { NodeClock } from './node-clock.js';
import { Scheduler } from './scheduler.js';
import { SimNetwork, type SimNetworkInit } from './sim-network.js';
import { Trace } from './trace.js';

export interface SimWorldInit {
  seed: Seed;
  /** Network settings other than the scheduler, random stream and trace. */
  network?: Omit<SimNetworkInit, 'scheduler' | 'random' | 'trace'>;
  /** See {@link TraceInit.retain}. */
  traceRetain?: number;
  /** Virtual start time (ms since the epoch). @default 0 */
  startMs?: number;
  /** See {@link SchedulerInit.maxEventsPerRun}. */
  maxEventsPerRun?: number;
}

export interface SimWorld {
  readonly seed: Seed;
  /** The root stream. Forks: `network` (link draws); give nodes `node:<id>`. */
  readonly random: SeededRandom;
  readonly scheduler: Scheduler;
  readonly trace: Trace;
  readonly network: SimNetwork;
  /** A fresh clock view for one incarnation of a node (halt it when the node crashes). */
  nodeClock(): NodeClock;
}

export function createSimWorld(init: SimWorldInit): SimWorld {
  const random = new SeededRandom(init.seed);
  const scheduler = new Scheduler({
    ...(init.startMs === undefined ? {} : { startMs: init.startMs }),
    ...(init.maxEventsPerRun === undefined ? {} : { maxEventsPerRun: init.maxEventsPerRun }),
  });
  const trace = new Trace({ clock: scheduler.clock, ...(init.traceRetain === undefined ? {} : { retain: init.traceRetain }) });
  const network = new SimNetwork({ ...init.network, scheduler, random: random.fork('network'), trace });
  return { seed: init.seed, random, scheduler, trace, network, nodeClock: () => new NodeClock(scheduler) };
}
