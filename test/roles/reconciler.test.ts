/**
 * The reconciler's safety gates: stabilization, convergence, one change at a time, and the
 * quorum gate that keeps a minority partition from touching the control plane.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evaluate } from '../../src/policy/evaluate.js';
import { planControlPlaneChanges } from '../../src/roles/control-plane-plan.js';
import { decide, type ReconcileInput } from '../../src/roles/reconciler.js';
import { isManagerRole, type Assignment, type MemberView, type Role } from '../../src/policy/types.js';
import { buildPolicy } from '../support/policy-builders.js';

const policy = buildPolicy({
  count: [
    { atLeast: 1, managers: 1 },
    { atLeast: 3, managers: 3 },
  ],
  eligible: 'true',
  prefer: ['node.memoryMB'],
  alsoWorker: false,
  sticky: true,
  workersEligible: 'true',
});

function member(id: string, memoryMB: number, alive = true, role: Role | null = null): MemberView {
  return { id, facts: { cpus: 2, memoryMB, diskGB: 10, arch: 'amd64' }, labels: {}, alive, role };
}

function input(self: string, assignment: Assignment, overrides: Partial<ReconcileInput> = {}): ReconcileInput {
  const alive = new Set(assignment.nodes.filter((n) => n.role !== 'none').map((n) => n.id));
  return {
    self,
    now: 100_000,
    assignment,
    currentRole: null,
    controlPlane: [],
    alive,
    reachable: alive,
    converged: true,
    viewChangedAt: 0,
    stabilizationMs: 10_000,
    inFlight: [],
    ...overrides,
  };
}

test('an empty control plane is bootstrapped by the first seat only; the others wait for it', () => {
  const a = evaluate(policy, { members: [member('a', 1024), member('b', 4096), member('c', 2048)] });
  assert.deepEqual(a.seatOrder, ['b', 'c', 'a']);
  assert.deepEqual(planControlPlaneChanges(a, { members: [], alive: new Set(['a', 'b', 'c']) }).map((c) => `${c.kind}:${c.node}`), [
    'bootstrap:b',
    'promote:c',
    'promote:a',
  ]);
  assert.deepEqual(decide(input('b', a)), { kind: 'control-plane', change: { kind: 'bootstrap', node: 'b', actor: 'b' }, thenRole: 'manager' });
  assert.equal(decide(input('c', a)).kind, 'wait');
  assert.match((decide(input('a', a)) as { reason: string }).reason, /waiting for bootstrap of b/);
});

test('nothing happens inside the stabilization window or before convergence', () => {
  const a = evaluate(policy, { members: [member('a', 1024)] });
  const early = decide(input('a', a, { now: 5_000, viewChangedAt: 0 }));
  assert.deepEqual(early, { kind: 'wait', reason: 'view changed 5000ms ago; stabilizing', until: 10_000 });
  assert.equal(decide(input('a', a, { converged: false })).kind, 'wait');
  assert.equal(decide(input('a', a)).kind, 'control-plane');
});

test('a workload-only change waits for a stable view but not for convergence', () => {
  const a = evaluate(policy, { members: [member('a', 8192, true, 'manager'), member('b', 1024)] });
  assert.deepEqual(decide(input('b', a, { controlPlane: ['a'], converged: false })), { kind: 'workload', from: null, to: 'worker' });
  assert.equal(decide(input('b', a, { controlPlane: ['a'], converged: false, now: 5_000, viewChangedAt: 0 })).kind, 'wait');
});

test('a dead manager is removed by a live member before its replacement is promoted', () => {
  const members = [member('a', 8192, false, 'manager'), member('b', 4096, true, 'manager'), member('c', 2048, true, 'manager'), member('d', 1024, true, 'worker')];
  const a = evaluate(policy, { members });
  assert.deepEqual(a.managers, ['b', 'c', 'd']);
  const view = { controlPlane: ['a', 'b', 'c'], currentRole: 'manager' as Role };
  assert.deepEqual(decide(input('b', a, view)), { kind: 'control-plane', change: { kind: 'remove', node: 'a', actor: 'b' }, thenRole: 'manager' });
  assert.match((decide(input('d', a, { ...view, currentRole: 'worker' })) as { reason: string }).reason, /waiting for remove of a by b/);
  // After the removal is recorded, d's promotion is next.
  assert.deepEqual(decide(input('d', a, { controlPlane: ['b', 'c'], currentRole: 'worker' })), {
    kind: 'control-plane',
    change: { kind: 'promote', node: 'd', actor: 'd' },
    thenRole: 'manager',
  });
});

test('a member whose driver kept failing the changes it acted on is passed over as the remover while another live member can act', () => {
  const plan = (failingActors: string[]) =>
    planControlPlaneChanges({ seatOrder: ['b', 'c', 'd'] }, { members: ['a', 'b', 'c'], alive: new Set(['b', 'c', 'd']), failingActors }).map((c) => `${c.kind}:${c.node}:${c.actor}`);
  assert.deepEqual(plan([]), ['remove:a:b', 'promote:d:d']);
  assert.deepEqual(plan(['b']), ['remove:a:c', 'promote:d:d']);
  // Nobody better: the first live member still acts (the failure may be the cluster's, not its own).
  assert.deepEqual(plan(['b', 'c']), ['remove:a:b', 'promote:d:d']);
});

test('a member that lost its member state rejoins its own seat, after removals and demotions and before promotions; one the policy no longer wants is demoted', () => {
  // c is dead, e and f lose their seats, b lost its member state, d is new: a, e and f still
  // serve, a quorum of the five recorded members.
  const view = { members: ['a', 'b', 'c', 'e', 'f'], alive: new Set(['a', 'b', 'd', 'e', 'f']), seatLost: ['b'] };
  assert.deepEqual(planControlPlaneChanges({ seatOrder: ['a', 'b', 'd'] }, view), [
    { kind: 'remove', node: 'c', actor: 'a' },
    { kind: 'demote', node: 'e', actor: 'e' },
    { kind: 'demote', node: 'f', actor: 'f' },
    { kind: 'promote', node: 'b', actor: 'b' },
    { kind: 'promote', node: 'd', actor: 'd' },
  ]);
  // Without the record nothing is planned for b; a seat-lost member the policy drops is demoted.
  assert.deepEqual(planControlPlaneChanges({ seatOrder: ['a', 'b', 'c'] }, { members: ['a', 'b', 'c'], alive: new Set(['a', 'b', 'c']) }), []);
  assert.deepEqual(planControlPlaneChanges({ seatOrder: ['a', 'c'] }, { members: ['a', 'b', 'c'], alive: new Set(['a', 'b', 'c']), seatLost: ['b'] }), [{ kind: 'demote', node: 'b', actor: 'b' }]);
  // b acts on its rejoin when it is first, with the seat it holds.
  const members = [member('a', 8192, true, 'manager'), member('b', 4096, true, 'manager'), member('c', 2048, true, 'manager'), member('d', 1024, true, 'worker')];
  const a = evaluate(policy, { members });
  assert.deepEqual(a.managers, ['a', 'b', 'c']);
  const settled = { controlPlane: ['a', 'b', 'c'], seatLost: ['b'], currentRole: 'manager' as Role };
  assert.deepEqual(decide(input('b', a, settled)), { kind: 'control-plane', change: { kind: 'promote', node: 'b', actor: 'b' }, thenRole: 'manager' });
  assert.match((decide(input('d', a, { ...settled, currentRole: 'worker' })) as { reason: string }).reason ?? '', /matches the policy/);
});

test('a lost seat is not rejoined when the members still serving are no quorum: the node says it needs a person', () => {
  const members = [member('a', 8192, true, 'manager'), member('b', 4096, true, 'manager'), member('d', 1024, true, 'worker')];
  const a = evaluate(policy, { members });
  // Two members, one of them without its data: the other alone cannot replace it.
  const view = { controlPlane: ['a', 'b'], seatLost: ['a'], currentRole: 'manager' as Role };
  assert.ok(!planControlPlaneChanges(a, { members: view.controlPlane, alive: new Set(['a', 'b', 'd']), seatLost: view.seatLost }).some((c) => c.node === 'a'));
  const waiting = decide(input('a', a, view));
  assert.equal(waiting.kind, 'wait');
  assert.match((waiting as { reason: string }).reason, /1 of 2 control-plane members still serve \(a quorum is 2\).*needs a person/);
  // A single member that lost its data: the same.
  assert.match((decide(input('a', a, { controlPlane: ['a'], seatLost: ['a'], currentRole: 'manager' })) as { reason: string }).reason, /0 of 1 control-plane members still serve/);
});

test('a minority partition makes no control-plane change', () => {
  // b and c are cut off from a; they still see a as alive (no verdict yet) or dead — either way,
  // reaching 1 of 3 members is a minority.
  const members = [member('a', 8192, false, 'manager'), member('b', 4096, false, 'manager'), member('c', 2048, true, 'manager'), member('d', 1024, true, 'worker')];
  const a = evaluate(policy, { members });
  const decision = decide(input('c', a, { controlPlane: ['a', 'b', 'c'], currentRole: 'manager', reachable: new Set(['c', 'd']) }));
  assert.equal(decision.kind, 'minority');
  assert.match((decision as { reason: string }).reason, /reaches 1 of 3 control-plane members \(needs 2\)/);
});

test('no change starts while another live node has one in flight', () => {
  const members = [member('a', 8192, false, 'manager'), member('b', 4096, true, 'manager'), member('c', 2048, true, 'manager'), member('d', 1024, true, 'worker')];
  const a = evaluate(policy, { members });
  const d = decide(input('b', a, { controlPlane: ['a', 'b', 'c'], currentRole: 'manager', inFlight: [{ node: 'c', change: { kind: 'demote', node: 'c', actor: 'c' } }] }));
  assert.match((d as { reason: string }).reason, /in flight/);
});

test('workload-only changes need no quorum', () => {
  const a = evaluate(policy, { members: [member('a', 4096, true, 'manager'), member('b', 1024)] });
  const d = decide(input('b', a, { controlPlane: ['a'], currentRole: 'none', reachable: new Set(['b']) }));
  assert.deepEqual(d, { kind: 'workload', from: 'none', to: 'worker' });
});

const fleetArb = fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'), { minLength: 1, maxLength: 7 }).chain((ids) =>
  fc.record({
    ids: fc.constant(ids),
    memory: fc.array(fc.constantFrom(1024, 2048, 4096), { minLength: ids.length, maxLength: ids.length }),
    controlPlane: fc.subarray(ids),
    dead: fc.subarray(ids),
    side: fc.array(fc.boolean(), { minLength: ids.length, maxLength: ids.length }),
  }),
);

test('with the same view everywhere, at most one node changes the control plane at a time', () => {
  fc.assert(
    fc.property(fleetArb, ({ ids, memory, controlPlane, dead }) => {
      const members = ids.map((id, i) => member(id, memory[i]!, !dead.includes(id), controlPlane.includes(id) ? 'manager' : 'worker'));
      const a = evaluate(policy, { members });
      const actors = ids.filter((id) => decide(input(id, a, { controlPlane, currentRole: members.find((m) => m.id === id)!.role })).kind === 'control-plane');
      assert.ok(actors.length <= 1, `several actors: ${actors.join(', ')}`);
    }),
    { numRuns: 300 },
  );
});

test('two sides of a partition never both change an existing control plane', () => {
  fc.assert(
    fc.property(fleetArb, ({ ids, memory, controlPlane, side }) => {
      fc.pre(controlPlane.length > 0);
      const sides = [ids.filter((_, i) => side[i]), ids.filter((_, i) => !side[i])];
      const acting = sides.map((group) => {
        // Each side sees only itself alive (the other side declared down) and reaches only itself.
        const members = ids.map((id, i) => member(id, memory[i]!, group.includes(id), controlPlane.includes(id) ? 'manager' : 'worker'));
        const a = evaluate(policy, { members });
        return group.some((id) => decide(input(id, a, { controlPlane, reachable: new Set(group), currentRole: isManagerRole(members.find((m) => m.id === id)!.role) ? 'manager' : 'worker' })).kind === 'control-plane');
      });
      assert.ok(!(acting[0] && acting[1]), `both sides act: ${JSON.stringify(sides)} control plane ${controlPlane.join(',')}`);
    }),
    { numRuns: 500 },
  );
});
