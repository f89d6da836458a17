/**
 * RoleController: the loop that turns the converged view into this node's role.
 *
 * On every trigger (document change, liveness change, policy change, a timer for the end of a
 * stabilization window, and a slow periodic tick as a safety net) it derives the view from the
 * document, evaluates the active policy, asks the reconciler what this node may do, and does it
 * through the driver — recording progress and outcome in the document:
 *
 *   control-plane change: role record phase `changing` (the change as detail) → driver
 *   → control-plane record (members the software reports, epoch + 1) → role record `ready`;
 *   workload change: driver → role record `ready`; failure: role record `failed`, retry later.
 *
 * Steps never overlap: a trigger during a step schedules exactly one more step after it.
 * Each node writes only its own role record; the control-plane record is written only by the
 * actor of a change.
 */
import { createHash } from 'node:crypto';
import { isManagerRole, type Assignment, type Role } from '../policy/types.js';
import type { ActivePolicy } from './active-policy.js';
import type { RoleDriver } from './driver.js';
import type { Clock, Timer } from '../seams/clock.js';
import type { ClusterDoc } from '../state/cluster-doc.js';
import type { StateLogger } from '../state/logger.js';
import type { ClusterView } from './cluster-view.js';
import { quorumOf, type ControlPlaneChange } from './control-plane-plan.js';
import { CHANGING_PHASE, CONTROL_PLANE_DRIVER, CONTROL_PLANE_KEY, controlPlaneToJson, parseInFlight, SEAT_LOST_PHASE } from './control-plane-record.js';
import { evaluateDocument, type DocumentEvaluation } from './document-evaluation.js';
import { decide, describe, type Decision, type ReconcileInput } from './reconciler.js';

export interface RoleControllerDeps {
  doc: ClusterDoc;
  clock: Clock;
  logger: StateLogger;
  driver: RoleDriver;
  activePolicy(): ActivePolicy | undefined;
  /** Peers this node can reach now (itself included). */
  reachable(): ReadonlySet<string>;
  /**
   * Whether the document matches the reachable peers' (syncs with them to find out), and which
   * of the peers checked answered during the check. `include` names peers a bounded check must
   * not leave out: the recorded control plane and the managers the policy wants.
   */
  converged(include: readonly string[]): Promise<{ converged: boolean; answered: readonly string[] }>;
  /**
   * TEST ONLY: replaces the reconciler's `decide`, so the simulator can prove its checkers catch
   * a broken safety gate (e.g. one that ignores quorum). Production code never sets it.
   * @default decide (src/roles/reconciler.ts)
   */
  testOnlyDecide?: (input: ReconcileInput) => Decision;
}

export interface RoleControllerConfig {
  /** Safety-net re-evaluation interval. @default 1000 */
  tickMs: number;
  /**
   * Wait after a failed driver call before trying again; it doubles with each failure in a row,
   * up to `maxRetryMs`, and starts over after a success. A failing change writes the node's role
   * record on every attempt — a document change every node receives and keeps — so a failure
   * that lasts (a cluster that lost its quorum, a driver that cannot run) must not write at a
   * fixed rate for as long as it lasts. @default 5000
   */
  retryMs: number;
  /** Longest wait between attempts. @default 60000 */
  maxRetryMs: number;
  /**
   * Triggers within this window are coalesced into one step: a burst of document changes
   * (a node joining, a sync session applying many changes) is evaluated once. @default 50
   */
  debounceMs: number;
}

export const DEFAULT_ROLE_CONTROLLER_CONFIG: RoleControllerConfig = { tickMs: 1_000, retryMs: 5_000, maxRetryMs: 60_000, debounceMs: 50 };

/**
 * Every node sees a new view (a policy, a failure) within milliseconds of the others and waits
 * the same stabilization window, so without a spread a large fleet would record its roles in
 * the same instant: N writes, each gossiped to every node — a simulated 1,000-node fleet held a
 * million deliveries in flight at once and spent half its time in garbage collection, and a
 * real mesh would take the burst just as hard. Above ROLE_SPREAD_ABOVE members each node adds
 * its own share of up to ROLE_SPREAD_PER_MEMBER_MS per member (at most MAX_ROLE_SPREAD_MS) to
 * the window, fixed by a hash of its id; small sites are not delayed at all.
 */
export const ROLE_SPREAD_ABOVE = 16;
export const ROLE_SPREAD_PER_MEMBER_MS = 2;
export const MAX_ROLE_SPREAD_MS = 2_000;

/** This node's extra stabilization wait in a fleet of `members` (see ROLE_SPREAD_ABOVE). */
export function roleSpreadMs(self: string, members: number): number {
  if (members <= ROLE_SPREAD_ABOVE) return 0;
  const share = createHash('sha256').update(`role-spread/${self}`).digest().readUInt32BE(0) / 2 ** 32;
  return Math.floor(share * Math.min(MAX_ROLE_SPREAD_MS, members * ROLE_SPREAD_PER_MEMBER_MS));
}

export interface RoleControllerState {
  assignment: Assignment | undefined;
  view: ClusterView | undefined;
  decision: Decision | { kind: 'no-policy'; reason: string };
  role: Role | null;
  /**
   * This node reaches fewer than a majority of the recorded control-plane members: it is in a
   * minority partition and would make no control-plane change (whether or not one is pending).
   */
  minority: boolean;
}

type Listener = (event: { from: Role | null; to: Role }) => void;

/**
 * What a control-plane decision reads from an evaluation: membership, liveness and policy (the
 * view's digest), the recorded control plane, the changes in flight and the assignment.
 */
function decisionInputs({ view, controlPlane, assignment }: DocumentEvaluation): string {
  return JSON.stringify([view.digest, controlPlane.epoch, controlPlane.members, view.inFlight, view.seatLost, view.failingActors, assignment?.managers ?? null]);
}

export class RoleController {
  private readonly config: RoleControllerConfig;
  private running = false;
  private stepping = false;
  private again = false;
  private tick: Timer | undefined;
  private wake: Timer | undefined;
  private debounce: Timer | undefined;
  private retryAt = 0;
  /** Failed driver calls in a row (see RoleControllerConfig.retryMs). */
  private failures = 0;
  /**
   * Control-plane changes this run acted on that failed, in a row, carried in every role record
   * it writes (RoleRecord.failedChanges): enough of them pass the node over for a new seat and
   * as a remover (FAILED_CHANGES_TO_PASS_OVER).
   */
  private failedChanges = 0;
  /** Whether this run of the loop has had the driver establish the role recorded before it started. */
  private reestablished = false;
  private lastDigest = '';
  private lastManagers = '';
  /**
   * What the last step decided 'idle' on (shared objects, compared by identity), once nothing
   * held it back (a retry wait, re-establishing the role): a step on the same inputs skips.
   */
  private idleOn: { evaluation: DocumentEvaluation; reachable: ReadonlySet<string>; active: ActivePolicy | undefined; role: Role | null } | undefined;
  /** roleSpreadMs for the member count last seen (a hash per step was a tenth of a large fleet's role loop). */
  private spread = { members: -1, ms: 0 };
  private viewChangedAt = 0;
  private abort = new AbortController();
  private readonly listeners = new Set<Listener>();
  private state: RoleControllerState = { assignment: undefined, view: undefined, decision: { kind: 'no-policy', reason: 'not started' }, role: null, minority: false };
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly deps: RoleControllerDeps, config: Partial<RoleControllerConfig> = {}) {
    this.config = { ...DEFAULT_ROLE_CONTROLLER_CONFIG, ...config };
    this.state.role = deps.doc.roles()[deps.doc.self]?.role ?? null;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.reestablished = false;
    this.idleOn = undefined;
    this.abort = new AbortController();
    this.viewChangedAt = this.deps.clock.now();
    this.scheduleTick();
    this.trigger();
  }

  /**
   * Stops the loop and resolves when a step in progress has ended. A step waiting on the
   * network ends when the replication under it stops, so callers stop that too before
   * awaiting this. Safe to call twice.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort(new Error('role controller stopped'));
    this.tick?.cancel();
    this.wake?.cancel();
    this.debounce?.cancel();
    this.debounce = undefined;
    await this.idle;
  }

  /** Something the evaluation depends on may have changed. Cheap; coalesces (see debounceMs). */
  trigger(): void {
    if (!this.running || this.debounce !== undefined) return;
    this.debounce = this.deps.clock.setTimer(this.config.debounceMs, () => {
      this.debounce = undefined;
      this.runStep();
    });
  }

  private runStep(): void {
    if (!this.running) return;
    if (this.stepping) {
      this.again = true;
      return;
    }
    this.stepping = true;
    this.idle = this.loop();
  }

  snapshot(): RoleControllerState {
    return this.state;
  }

  onRoleChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.step();
      } while (this.again && this.running);
    } catch (err) {
      this.deps.logger.warn({ err: String(err) }, 'role step failed');
    } finally {
      this.stepping = false;
    }
  }

  private async step(): Promise<void> {
    const { doc, clock } = this.deps;
    const active = this.deps.activePolicy();
    const evaluation = evaluateDocument(doc, active);
    const reachable = this.deps.reachable();
    const idle = this.idleOn;
    // Nothing the last step's 'idle' decision depended on has changed (a periodic tick in a
    // settled fleet): the same decision again, nothing to do.
    if (idle !== undefined && idle.evaluation === evaluation && idle.reachable === reachable && idle.active === active && idle.role === this.state.role) return;
    this.idleOn = undefined;
    const { view, controlPlane, assignment } = evaluation;
    const now = clock.now();
    if (view.digest !== this.lastDigest) {
      this.lastDigest = view.digest;
      this.viewChangedAt = now;
    }
    const seatsReached = view.controlPlane.filter((m) => reachable.has(m)).length;
    this.state = { ...this.state, minority: view.controlPlane.length > 0 && seatsReached < quorumOf(view.controlPlane.length) };
    if (!active || !assignment) {
      this.state = { ...this.state, view, assignment: undefined, decision: { kind: 'no-policy', reason: 'no valid policy has been applied yet' } };
      return;
    }
    const managersKey = `${active.key}|${assignment.managers.join(',')}`;
    if (managersKey !== this.lastManagers) {
      this.lastManagers = managersKey;
      this.deps.logger.info({ managers: assignment.managers, policy: active.key }, 'assignment changed');
    }
    const decideWith = this.deps.testOnlyDecide ?? decide;
    const input: ReconcileInput = {
      self: doc.self,
      now,
      assignment,
      currentRole: this.state.role,
      controlPlane: view.controlPlane,
      alive: view.alive,
      reachable,
      converged: true, // checked below, only when about to act: it may cost a sync round
      viewChangedAt: this.viewChangedAt,
      stabilizationMs: active.policy.timing.stabilizationMs + this.spreadFor(view.members.length),
      inFlight: view.inFlight,
      seatLost: view.seatLost,
      failingActors: view.failingActors,
    };
    const decision = decideWith(input);
    this.state = { ...this.state, view, assignment, decision };
    if (decision.kind === 'wait' && decision.until !== undefined) this.wakeAt(decision.until);
    if (now < this.retryAt) return this.wakeAt(this.retryAt);
    if (!this.reestablished && this.state.role !== null && decision.kind !== 'workload') {
      // After a restart the role recorded in the document is this node's, but the software that
      // performs it may not be running (a reboot, a crash). Make it hold again first — ensure
      // is idempotent — before any new decision is acted on.
      this.reestablished = await this.ensure(this.state.role);
      if (this.reestablished) this.again = true;
      return;
    }
    if (decision.kind === 'workload') return void (await this.ensure(decision.to));
    // Nothing left to change, but the record still says the last attempt failed (a change the
    // assignment no longer asks for: this node was passed over for a seat, say). Make the role
    // it holds hold again, which records it `ready`.
    if (decision.kind === 'idle' && this.state.role !== null && doc.roles()[doc.self]?.phase === 'failed') return void (await this.ensure(this.state.role));
    if (decision.kind === 'idle') this.idleOn = { evaluation, reachable, active, role: this.state.role };
    if (decision.kind !== 'control-plane') return;
    const check = await this.deps.converged([...new Set([...view.controlPlane, ...assignment.managers])].filter((id) => id !== doc.self));
    if (!check.converged) {
      this.state = { ...this.state, decision: { kind: 'wait', reason: 'document not yet converged with reachable peers' } };
      return;
    }
    // The check takes round trips (more on a lossy link): if what the decision was made on has
    // changed meanwhile, decide again on the new content instead of acting on the old.
    if (decisionInputs(evaluateDocument(doc, this.deps.activePolicy())) !== decisionInputs(evaluation)) {
      this.again = true;
      return;
    }
    // The quorum gate once more, counting only the control-plane members that answered the
    // check just now. `reachable` above comes from failure detection, which still counts a
    // crashed or cut-off member as alive (suspect) until its suspicion times out — a window
    // in which a minority would otherwise believe it holds a quorum.
    const confirmed = decideWith({ ...input, reachable: new Set([doc.self, ...check.answered]) });
    if (confirmed.kind !== 'control-plane' || confirmed.change.kind !== decision.change.kind || confirmed.change.node !== decision.change.node) {
      this.state = { ...this.state, decision: confirmed, minority: this.state.minority || confirmed.kind === 'minority' };
      return;
    }
    await this.changeControlPlane(decision.change, decision.thenRole, view.controlPlane, controlPlane.epoch);
  }

  private async changeControlPlane(change: ControlPlaneChange, thenRole: Role, members: readonly string[], epoch: number): Promise<void> {
    const { doc, driver, logger, clock } = this.deps;
    const current = this.state.role ?? 'none';
    // A node whose own seat is lost (SEAT_LOST_PHASE) may act on another member first (remove a
    // dead one, in plan order); its own record must still say so afterwards, or nobody plans
    // its rejoin. A failed rejoin leaves the seat as lost as before.
    const before = doc.roles()[doc.self];
    const seatStillLost = before?.phase === SEAT_LOST_PHASE || (change.kind === 'promote' && change.node === doc.self && members.includes(doc.self));
    logger.info({ change, members }, `control-plane change: ${describe(change)}`);
    this.writeRole(current, CHANGING_PHASE, JSON.stringify(change));
    const failed = (err: unknown): void => this.fail(current, `${describe(change)} failed`, err, seatStillLost ? SEAT_LOST_PHASE : 'failed');
    let after: string[];
    try {
      after = await driver.changeControlPlane(change, members, { signal: this.abort.signal });
    } catch (err) {
      // Counted only when the change itself failed (not when this loop was stopped under it).
      if (this.running) this.failedChanges++;
      return failed(err);
    }
    this.failedChanges = 0;
    try {
      doc.writeDriverRecord(CONTROL_PLANE_DRIVER, CONTROL_PLANE_KEY, controlPlaneToJson({ members: after, epoch: epoch + 1, by: doc.self, at: clock.now() }));
      if (change.node === doc.self) await driver.ensure(thenRole, { signal: this.abort.signal });
      if (change.node !== doc.self && before?.phase === SEAT_LOST_PHASE) this.setRole(current, SEAT_LOST_PHASE, before.detail);
      else this.setRole(change.node === doc.self ? thenRole : current, 'ready', null);
    } catch (err) {
      failed(err);
    }
  }

  /**
   * Whether this node holds a control-plane seat its driver cannot serve (RoleDriver.holdsSeat)
   * when about to make `role` hold. Records it once, so every node plans the rejoin.
   */
  private async seatLost(role: Role): Promise<boolean> {
    const { doc, driver, logger } = this.deps;
    if (!isManagerRole(role) || driver.holdsSeat === undefined) return false;
    if (!evaluateDocument(doc, this.deps.activePolicy()).controlPlane.members.includes(doc.self)) return false;
    // A rejoin cut short by a restart (the record still says so) is not over because member data
    // exists now: etcd made it when it started as a learner, which may never have been promoted.
    const own = doc.roles()[doc.self];
    const inFlight = own?.phase === CHANGING_PHASE ? parseInFlight(own.detail) : undefined;
    const rejoining = own?.phase === SEAT_LOST_PHASE || (inFlight?.kind === 'promote' && inFlight.node === doc.self);
    if (!rejoining && (await driver.holdsSeat({ signal: this.abort.signal }))) return false;
    if (own?.phase !== SEAT_LOST_PHASE) {
      logger.warn({ role }, 'this node holds a control-plane seat but its control-plane software has no member state (its data was lost)');
      this.writeRole(role, SEAT_LOST_PHASE, 'seated without member state: rejoining');
    } else if ((own.failedChanges ?? 0) !== this.failedChanges) {
      // Still lost after a restart: the record keeps its detail, and the count starts over.
      this.writeRole(role, SEAT_LOST_PHASE, own.detail);
    }
    return true;
  }

  private async ensure(role: Role): Promise<boolean> {
    try {
      // The rejoin is a control-plane change (control-plane-plan.ts): nothing to make hold now.
      if (await this.seatLost(role)) return true;
      await this.deps.driver.ensure(role, { signal: this.abort.signal });
      this.reestablished = true;
      this.setRole(role, 'ready', null);
      return true;
    } catch (err) {
      this.fail(this.state.role ?? 'none', `ensure ${role} failed`, err);
      return false;
    }
  }

  /** After a driver call that succeeded. */
  private setRole(role: Role, phase: string, detail: string | null): void {
    this.failures = 0;
    const from = this.state.role;
    this.writeRole(role, phase, detail);
    this.state = { ...this.state, role };
    if (from !== role) {
      this.deps.logger.info({ from, to: role }, `role changed: ${from ?? 'none'} → ${role}`);
      for (const l of this.listeners) l({ from, to: role });
    }
  }

  private fail(role: Role, what: string, err: unknown, phase = 'failed'): void {
    if (!this.running) return;
    const reason = err instanceof Error ? err.message : String(err);
    this.deps.logger.warn({ err: reason }, what);
    this.writeRole(role, phase, `${what}: ${reason}`);
    this.failures++;
    this.retryAt = this.deps.clock.now() + Math.min(this.config.retryMs * 2 ** (this.failures - 1), this.config.maxRetryMs);
    this.wakeAt(this.retryAt);
  }

  /** This node's role record, with its count of failed control-plane changes in a row. */
  private writeRole(role: Role, phase: string, detail: string | null): void {
    this.deps.doc.writeOwnRole({ role, phase, detail, failedChanges: this.failedChanges });
  }

  private spreadFor(members: number): number {
    if (this.spread.members !== members) this.spread = { members, ms: roleSpreadMs(this.deps.doc.self, members) };
    return this.spread.ms;
  }

  private wakeAt(time: number): void {
    this.wake?.cancel();
    this.wake = this.deps.clock.setTimer(Math.max(0, time - this.deps.clock.now()), () => this.trigger());
  }

  private scheduleTick(): void {
    this.tick = this.deps.clock.setTimer(this.config.tickMs, () => {
      if (!this.running) return;
      // The periodic tick needs no debounce of its own: it steps now, unless a triggered step is
      // due anyway (one scheduler event per node per tick, not two, in a simulated fleet).
      if (this.debounce === undefined) this.runStep();
      this.scheduleTick();
    });
  }
}
