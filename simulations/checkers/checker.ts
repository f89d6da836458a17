/**
 * Invariant checkers: code OUTSIDE the node under test that watches a simulated fleet and reports
 * violations. They read only what nodes expose — their documents, role records, policy stores,
 * driver calls and reported role changes — plus the harness's ground truth about the network
 * (who can reach whom), never the nodes' private state.
 *
 * Two phases (DESIGN.md "Invariants", STYLE.md on VOPR): while faults are on, safety must hold
 * (`faults`); once the last fault has healed, the fleet must also converge within the
 * scenario's bound (`healed`).
 */
import type { PeerId } from '../../src/mesh/mesh.js';
import type { DriverCallEvent, SimFleet } from '../fleet/sim-fleet.js';
import type { ConvergenceState } from './fleet-view.js';

export interface Violation {
  checker: string;
  /** Virtual time (ms) at which it was seen. */
  time: number;
  details: string;
  node?: PeerId;
}

export type Phase = 'faults' | 'healed';

export interface CheckContext {
  readonly fleet: SimFleet;
  /** When the last fault ends (after it, the liveness phase starts). */
  readonly quietAt: number;
  /** The policy's stabilization window (ms). */
  readonly stabilizationMs: number;
  readonly convergeWithinMs: number;
  phase(): Phase;
  /** {@link convergence} of the fleet now (computed once per instant). */
  convergence(): ConvergenceState;
}

export interface Checker {
  readonly name: string;
  /** Periodic sample (every few hundred ms of virtual time). */
  sample?(ctx: CheckContext): void;
  /** A driver call is starting. */
  driverCall?(ctx: CheckContext, event: DriverCallEvent): void;
  /** The run is over. */
  finish?(ctx: CheckContext): void;
  readonly violations: Violation[];
}

/** Keeps at most `limit` violations per checker so a broken run stays readable. */
export class ViolationLog {
  readonly violations: Violation[] = [];
  constructor(readonly checker: string, private readonly limit = 20) {}

  report(time: number, details: string, node?: PeerId): void {
    if (this.violations.length >= this.limit) return;
    this.violations.push({ checker: this.checker, time, details, ...(node === undefined ? {} : { node }) });
  }
}
