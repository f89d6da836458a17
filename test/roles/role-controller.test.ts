/**
 * RoleController's quorum gate counts only control-plane members that answered just now.
 *
 * Failure detection still reports a crashed or cut-off member as reachable (suspect) until its
 * suspicion times out. Found by the simulator (large-fleet-lossy, 300 nodes, seed 1): a node
 * promoted itself on a two-member control plane whose other member had crashed, because its
 * detector still counted the crashed member. Here node a, on control plane [a, b, c] with b
 * declared down, must not remove b while c (crashed, still "reachable") does not answer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPolicy } from '../../src/policy/load.js';
import { evaluateDocument } from '../../src/roles/document-evaluation.js';
import { RoleController, type RoleControllerConfig } from '../../src/roles/role-controller.js';
import type { RoleDriver } from '../../src/roles/driver.js';
import type { ControlPlaneChange } from '../../src/roles/control-plane-plan.js';
import { CONTROL_PLANE_DRIVER, CONTROL_PLANE_KEY, controlPlaneToJson } from '../../src/roles/control-plane-record.js';
import { ManualClock } from '../../src/seams/manual-clock.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import { ClusterDoc } from '../../src/state/cluster-doc.js';
import { RecordingLogger } from '../support/recording-logger.js';

const POLICY = loadPolicy(
  `apiVersion: pace/v1
kind: ClusterPolicy
metadata: { name: three, version: 1 }
spec:
  driver: { name: log }
  managers:
    count: [ { atLeast: 1, managers: 1 }, { atLeast: 3, managers: 3 } ]
    prefer: [ "node.memoryMB" ]
  timing: { stabilization: 1s, failureGrace: 0s }
`,
  'three.yaml',
);

/** Node a's document: members a-d, the control plane [a, b, c] recorded by a, b declared down. */
function documentOfA(clock: ManualClock): ClusterDoc {
  return fleetDocs(clock)[0]!;
}

/**
 * documentOfA and the other nodes' documents it was built from, to write more changes with.
 * Another fleet: `ids` (memory falling in id order), the recorded `controlPlane` (each member's
 * role `manager`, ready) and the members declared `down`; only a's and b's documents hold it all.
 */
function fleetDocs(clock: ManualClock, fleet: { ids?: string[]; controlPlane?: string[]; down?: string[] } = {}): ClusterDoc[] {
  const { ids = ['a', 'b', 'c', 'd'], controlPlane = ['a', 'b', 'c'], down = ['b'] } = fleet;
  const logger = new RecordingLogger();
  const docs = ids.map((self, i) => ClusterDoc.create({ cluster: 'test', self, clock, random: new SeededRandom(i + 1), logger }));
  const changes: Uint8Array[] = [];
  for (const doc of docs) doc.onChange((e) => e.change && changes.push(e.change));
  docs.forEach((doc, i) =>
    doc.writeOwnMember({ name: doc.self, addresses: [], facts: { cpus: 4, memoryMB: 8192 - i * 1024, diskGB: 32, arch: 'amd64' }, labels: {}, joinedAt: 0, leftAt: null, incarnation: 0 }),
  );
  const [a, b] = docs as [ClusterDoc, ClusterDoc];
  const last = docs.at(-1)!;
  a.writeDriverRecord(CONTROL_PLANE_DRIVER, CONTROL_PLANE_KEY, controlPlaneToJson({ members: controlPlane, epoch: 3, by: 'a', at: 0 }));
  for (const self of controlPlane) docs.find((x) => x.self === self)!.writeOwnRole({ role: 'manager', phase: 'ready' });
  for (const id of down) last.writeVerdict(id, { status: 'down', incarnation: 0 });
  for (const doc of [a, b]) doc.applyChanges(changes);
  return docs;
}

class RecordingDriver implements RoleDriver {
  readonly changes: ControlPlaneChange[] = [];
  ensure(): Promise<void> {
    return Promise.resolve();
  }
  changeControlPlane(change: ControlPlaneChange, members: readonly string[]): Promise<string[]> {
    this.changes.push(change);
    return Promise.resolve(members.filter((m) => m !== change.node));
  }
}

/**
 * A controller for `doc` under POLICY, its reachable set and convergence answers fixed;
 * `onCheck` runs at the start of every convergence check.
 */
function controllerOn(doc: ClusterDoc, clock: ManualClock, driver: RoleDriver, reachable: ReadonlySet<string>, answered: string[], config: Partial<RoleControllerConfig> = {}, onCheck: () => void = () => {}): RoleController {
  assert.ok(POLICY.ok);
  const policy = POLICY.policy;
  return new RoleController(
    {
      doc,
      clock,
      logger: new RecordingLogger(),
      driver,
      activePolicy: () => ({ policy, key: 'three@1' }),
      reachable: () => reachable,
      converged: () => {
        onCheck();
        return Promise.resolve({ converged: true, answered });
      },
    },
    config,
  );
}

/** Runs `doc`'s controller for 5 s; `arriving` reaches its document during the first convergence check. */
async function runWithArrivalDuringCheck(doc: ClusterDoc, clock: ManualClock, arriving: Uint8Array[], reachable: string[], answered: string[]): Promise<{ driver: RecordingDriver; checks: number; controller: RoleController }> {
  const driver = new RecordingDriver();
  let checks = 0;
  const controller = controllerOn(doc, clock, driver, new Set(reachable), answered, {}, () => {
    if (checks++ === 0) doc.applyChanges(arriving);
  });
  controller.start();
  await runFor(clock, 5_000);
  await controller.stop();
  return { driver, checks, controller };
}

/** Moves the clock on by `ms` in 50 ms steps, letting each step's continuations run. */
async function runFor(clock: ManualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    clock.advance(50);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function runA(answered: string[]): Promise<{ driver: RecordingDriver; controller: RoleController }> {
  const clock = new ManualClock(0);
  const driver = new RecordingDriver();
  // What failure detection says: b and c are still alive or suspect.
  const controller = controllerOn(documentOfA(clock), clock, driver, new Set(['a', 'b', 'c', 'd']), answered);
  controller.start();
  await runFor(clock, 5_000);
  await controller.stop();
  return { driver, controller };
}

void describe('RoleController quorum gate', () => {
  void it('makes no control-plane change when the members that answered are not a quorum', async () => {
    // c crashed too, but the detector has not noticed: only d answered the check.
    const { driver, controller } = await runA(['d']);
    assert.deepEqual(driver.changes, []);
    const state = controller.snapshot();
    assert.equal(state.decision.kind, 'minority', JSON.stringify(state.decision));
    assert.equal(state.minority, true);
  });

  void it('removes the dead member when a quorum of the control plane answered', async () => {
    const { driver } = await runA(['c', 'd']);
    assert.deepEqual(driver.changes[0], { kind: 'remove', node: 'b', actor: 'a' });
  });
});

void describe('RoleController acting on a checked view', () => {
  void it('decides again, instead of acting, when the view changed during the convergence check', async () => {
    const clock = new ManualClock(0);
    const [a, b] = fleetDocs(clock) as [ClusterDoc, ClusterDoc];
    // b is back: it raises its member record above the down verdict (what arrives mid-check).
    const refutation: Uint8Array[] = [];
    b.onChange((e) => e.change && refutation.push(e.change));
    b.writeOwnMember({ name: 'b', addresses: [], facts: { cpus: 4, memoryMB: 7168, diskGB: 32, arch: 'amd64' }, labels: {}, joinedAt: 0, leftAt: null, incarnation: 1 });
    assert.equal(refutation.length, 1);
    // The first check (on the decision to remove b) sees b's refutation arrive meanwhile.
    const { driver, checks, controller } = await runWithArrivalDuringCheck(a, clock, refutation, ['a', 'b', 'c', 'd'], ['b', 'c', 'd']);
    assert.equal(checks, 1, 'one check, for the decision made before b came back');
    assert.deepEqual(driver.changes, [], 'b was not removed on the view from before the check');
    assert.equal(controller.snapshot().view?.alive.has('b'), true);
  });
});

void describe('RoleController acting on a checked view: the remover', () => {
  void it('decides again when the member it stood in for as the remover is able again by the end of the check', async () => {
    const clock = new ManualClock(0);
    // Control plane [a, m, x], x down: a removes x — unless a's driver kept failing, then m does.
    const [m, a] = fleetDocs(clock, { ids: ['m', 'a', 'x', 'd'], controlPlane: ['a', 'm', 'x'], down: ['x'] }) as [ClusterDoc, ClusterDoc];
    const fromA: Uint8Array[] = [];
    a.onChange((e) => e.change && fromA.push(e.change));
    a.writeOwnRole({ role: 'manager', phase: 'failed', detail: 'remove of x by a failed: etcdctl: permission denied', failedChanges: 3 });
    m.applyChanges(fromA.splice(0));
    // a restarts (repaired): its record starts its count over — what arrives during m's check.
    a.writeOwnRole({ role: 'manager', phase: 'ready' });
    const { driver, checks } = await runWithArrivalDuringCheck(m, clock, fromA, ['a', 'm', 'd'], ['a', 'd']);
    assert.equal(checks, 1, 'one check, for the remove m was to make in place of a');
    assert.deepEqual(driver.changes, [], 'm did not remove x once a could again');
  });
});

void describe('RoleController on a settled node', () => {
  void it('re-establishes the recorded role on every start, though each step after the first finds it idle', async () => {
    const clock = new ManualClock(0);
    const doc = ClusterDoc.create({ cluster: 'test', self: 'a', clock, random: new SeededRandom(1), logger: new RecordingLogger() });
    doc.writeOwnMember({ name: 'a', addresses: [], facts: { cpus: 4, memoryMB: 8192, diskGB: 32, arch: 'amd64' }, labels: {}, joinedAt: 0, leftAt: null, incarnation: 0 });
    doc.writeDriverRecord(CONTROL_PLANE_DRIVER, CONTROL_PLANE_KEY, controlPlaneToJson({ members: ['a'], epoch: 1, by: 'a', at: 0 }));
    doc.writeOwnRole({ role: 'manager', phase: 'ready' });
    const ensured: string[] = [];
    const driver: RoleDriver = {
      ensure: (role) => {
        ensured.push(role);
        return Promise.resolve();
      },
      changeControlPlane: () => Promise.reject(new Error('no control-plane change expected')),
    };
    const controller = controllerOn(doc, clock, driver, new Set(['a']), []);
    controller.start();
    await runFor(clock, 5_000);
    assert.deepEqual(ensured, ['manager'], 'the role is made to hold once after the start, not on every tick');
    assert.equal(controller.snapshot().decision.kind, 'idle');
    await controller.stop();
    controller.start();
    await runFor(clock, 3_000);
    assert.deepEqual(ensured, ['manager', 'manager'], 'and again after a restart on the same inputs');
    await controller.stop();
  });
});

/** Five nodes, the control plane [a, b, c, e], e declared down: the policy keeps a, b and c. */
const FIVE = { ids: ['a', 'b', 'c', 'd', 'e'], controlPlane: ['a', 'b', 'c', 'e'], down: ['e'] };

/** Driver calls as a healthy cluster answers them (a remove drops the member); `onChange` sees each change first and may fail it by returning an error. */
class ClusterDriver implements RoleDriver {
  readonly changes: ControlPlaneChange[] = [];
  readonly ensured: string[] = [];
  constructor(
    readonly holdsSeat: () => Promise<boolean>,
    private readonly onChange: (change: ControlPlaneChange) => Error | undefined = () => undefined,
  ) {}
  ensure(role: string): Promise<void> {
    this.ensured.push(role);
    return Promise.resolve();
  }
  changeControlPlane(change: ControlPlaneChange, members: readonly string[]): Promise<string[]> {
    this.changes.push(change);
    const error = this.onChange(change);
    if (error !== undefined) return Promise.reject(error);
    return Promise.resolve(change.kind === 'remove' || change.kind === 'demote' ? members.filter((m) => m !== change.node) : [...new Set([...members, change.node])].sort());
  }
}

/** Runs a's controller on `doc` (its FIVE document, mostly) for `ms`, b, c and d reachable and answering. */
async function runA5(doc: ClusterDoc, clock: ManualClock, driver: RoleDriver, ms = 10_000, config: Partial<RoleControllerConfig> = {}): Promise<void> {
  const controller = controllerOn(doc, clock, driver, new Set(['a', 'b', 'c', 'd']), ['b', 'c', 'd'], config);
  controller.start();
  await runFor(clock, ms);
  await controller.stop();
}

void describe('RoleController on a node whose disk was replaced', () => {
  void it('records a seat its driver holds no member state for, once, and rejoins it with a promote of itself', async () => {
    const clock = new ManualClock(0);
    // a lost its data; e is dead. a removes e first (its turn in the plan, with b and c it has a
    // quorum of four), then b and c are a quorum of [a, b, c] still serving, and a rejoins.
    const doc = fleetDocs(clock, FIVE)[0]!;
    let memberData = false;
    const driver = new ClusterDriver(
      () => Promise.resolve(memberData),
      (change) => {
        if (change.kind === 'promote' && change.node === 'a') memberData = true;
        return undefined;
      },
    );
    // Every write of a's role record (other changes leave it as it was).
    const phases: string[] = [];
    let lastRecord = '';
    doc.onChange(() => {
      const record = JSON.stringify(doc.roles()['a']);
      if (record !== lastRecord) phases.push(doc.roles()['a']?.phase ?? 'none');
      lastRecord = record;
    });
    await runA5(doc, clock, driver);
    // a notices first (nothing was started on the lost state), then acts in plan order: the
    // dead e out (its record still says its seat is lost afterwards), then its own rejoin, and
    // only then makes its role hold.
    assert.deepEqual(driver.changes, [
      { kind: 'remove', node: 'e', actor: 'a' },
      { kind: 'promote', node: 'a', actor: 'a' },
    ]);
    // One write each: the loss is recorded once, not on every step.
    assert.deepEqual(phases, ['seat-lost', 'changing', 'seat-lost', 'changing', 'ready']);
    assert.deepEqual(driver.ensured, ['manager']);
    assert.equal(doc.roles()['a']?.phase, 'ready');
  });

  void it('finishes a rejoin a restart cut short, though member data exists by then', async () => {
    const clock = new ManualClock(0);
    const doc = fleetDocs(clock, FIVE)[0]!;
    // a was rejoining when it went down: etcd had made its data dir as a learner.
    doc.writeOwnRole({ role: 'manager', phase: 'changing', detail: JSON.stringify({ kind: 'promote', node: 'a', actor: 'a' }) });
    const driver = new ClusterDriver(() => Promise.resolve(true));
    await runA5(doc, clock, driver);
    assert.deepEqual(driver.changes, [
      { kind: 'remove', node: 'e', actor: 'a' },
      { kind: 'promote', node: 'a', actor: 'a' },
    ]);
    assert.equal(doc.roles()['a']?.phase, 'ready');
  });

  void it('a rejoin that fails leaves the seat recorded as lost, so it is tried again', async () => {
    const clock = new ManualClock(0);
    const doc = fleetDocs(clock, FIVE)[0]!;
    const driver = new ClusterDriver(
      () => Promise.resolve(false),
      (change) => (change.kind === 'promote' ? new Error('etcdserver: unhealthy cluster') : undefined),
    );
    await runA5(doc, clock, driver);
    const promotes = driver.changes.filter((c) => c.kind === 'promote').length;
    assert.ok(promotes >= 2, `promote tried ${promotes} times`);
    assert.equal(doc.roles()['a']?.phase, 'seat-lost');
    assert.match(doc.roles()['a']?.detail ?? '', /promote of a failed: etcdserver: unhealthy cluster/);
  });

  void it('waits twice as long after each failure in a row (up to maxRetryMs), so a lasting failure does not write at a fixed rate', async () => {
    const clock = new ManualClock(0);
    const doc = fleetDocs(clock, FIVE)[0]!;
    const attempts: number[] = [];
    // a's own rejoin, which no other node can make for it, fails every time.
    const driver = new ClusterDriver(
      () => Promise.resolve(false),
      (change) => {
        if (change.kind !== 'promote') return undefined;
        attempts.push(clock.now());
        return new Error('etcdserver: no leader');
      },
    );
    await runA5(doc, clock, driver, 40_000, { retryMs: 1_000, maxRetryMs: 8_000 });
    const gaps = attempts.slice(1).map((t, i) => Math.round((t - attempts[i]!) / 1000));
    assert.deepEqual(gaps.slice(0, 6), [1, 2, 4, 8, 8, 8], JSON.stringify(attempts));
  });
});

void describe('RoleController on a node that cannot take a seat', () => {
  /** a (the best node) outside the control plane [b, c] of four: the policy hands it the third seat. */
  const SEAT_FOR_A = { ids: ['a', 'b', 'c', 'd'], controlPlane: ['b', 'c'], down: [] };
  const runA = (doc: ClusterDoc, clock: ManualClock, driver: RoleDriver, ms: number): Promise<void> => runA5(doc, clock, driver, ms, { retryMs: 1_000 });
  const managers = (doc: ClusterDoc): string[] => {
    assert.ok(POLICY.ok);
    return evaluateDocument(doc, { policy: POLICY.policy, key: 'three@1' }).assignment?.managers ?? [];
  };

  void it('counts its failed attempts in its role record; the third passes it over, and it records the role it keeps as ready', async () => {
    const clock = new ManualClock(0);
    const doc = fleetDocs(clock, SEAT_FOR_A)[0]!;
    // A worker already: once passed over, its role is what the assignment gives it (nothing to
    // change), and its record must still stop saying `failed`.
    doc.writeOwnRole({ role: 'worker', phase: 'ready' });
    assert.deepEqual(managers(doc), ['a', 'b', 'c']);
    const counts: (number | undefined)[] = [];
    doc.onChange(() => {
      const count = doc.roles()['a']?.failedChanges;
      if (counts.at(-1) !== count) counts.push(count);
    });
    const driver = new ClusterDriver(
      () => Promise.resolve(false),
      (change) => (change.kind === 'promote' ? new Error('etcd: data dir on a read-only file system') : undefined),
    );
    await runA(doc, clock, driver, 20_000);
    assert.deepEqual(driver.changes, [1, 2, 3].map(() => ({ kind: 'promote', node: 'a', actor: 'a' })), 'no fourth attempt once passed over');
    assert.deepEqual(counts, [1, 2, 3]);
    assert.deepEqual(managers(doc), ['b', 'c', 'd'], 'the next best node gets the seat');
    assert.deepEqual(doc.roles()['a'], { ...doc.roles()['a'], role: 'worker', phase: 'ready', detail: null, failedChanges: 3 });
  });

  void it('an attempt that succeeds starts the count over, and so does a restart', async () => {
    const clock = new ManualClock(0);
    const doc = fleetDocs(clock, SEAT_FOR_A)[0]!;
    let failing = 2;
    const driver = new ClusterDriver(
      () => Promise.resolve(true),
      (change) => (change.kind === 'promote' && failing-- > 0 ? new Error('etcdserver: unhealthy cluster') : undefined),
    );
    await runA(doc, clock, driver, 20_000);
    assert.equal(driver.changes.length, 3);
    assert.equal(doc.roles()['a']?.phase, 'ready');
    assert.equal(doc.roles()['a']?.failedChanges, undefined);

    const again = fleetDocs(clock, SEAT_FOR_A)[0]!;
    await runA(again, clock, new ClusterDriver(() => Promise.resolve(false), () => new Error('etcd: data dir on a read-only file system')), 20_000);
    assert.equal(again.roles()['a']?.failedChanges, 3);
    assert.deepEqual(managers(again), ['b', 'c', 'd']);
    // Repaired and restarted: a new run of the loop writes its record without the count, and the
    // seat is a's again.
    const repaired = new ClusterDriver(() => Promise.resolve(true));
    await runA(again, clock, repaired, 20_000);
    assert.deepEqual(repaired.changes, [{ kind: 'promote', node: 'a', actor: 'a' }]);
    assert.equal(again.roles()['a']?.failedChanges, undefined);
    assert.deepEqual(managers(again), ['a', 'b', 'c']);
  });

  void it('counts only a failed change: an ensure that fails after the change went through does not count', async () => {
    const clock = new ManualClock(0);
    const doc = fleetDocs(clock, SEAT_FOR_A)[0]!;
    class EnsureFails extends ClusterDriver {
      override ensure(): Promise<void> {
        return Promise.reject(new Error('etcd: not healthy after 30000 ms'));
      }
    }
    const driver = new EnsureFails(() => Promise.resolve(true));
    await runA(doc, clock, driver, 3_000);
    assert.deepEqual(driver.changes, [{ kind: 'promote', node: 'a', actor: 'a' }]);
    assert.equal(doc.roles()['a']?.phase, 'failed');
    assert.equal(doc.roles()['a']?.failedChanges, undefined);
  });

  void it("a restart starts the count over in a seat-lost record too, which keeps saying the seat is lost", async () => {
    const clock = new ManualClock(0);
    const doc = fleetDocs(clock, FIVE)[0]!;
    doc.writeOwnRole({ role: 'manager', phase: 'seat-lost', detail: 'promote of a failed: etcdserver: no leader', failedChanges: 5 });
    const records: string[] = [];
    doc.onChange(() => records.push(`${doc.roles()['a']?.phase}/${doc.roles()['a']?.failedChanges ?? 0}`));
    // Every change hangs: what is written is the restart's own bookkeeping.
    const driver = new ClusterDriver(() => Promise.resolve(false));
    driver.changeControlPlane = () => new Promise<string[]>(() => undefined);
    const controller = controllerOn(doc, clock, driver, new Set(['a', 'b', 'c', 'd']), ['b', 'c', 'd']);
    controller.start();
    await runFor(clock, 3_000);
    void controller.stop();
    assert.equal(records[0], 'seat-lost/0');
  });
});

