/** The evaluation input derived from the document: liveness, roles, in-flight changes, digest. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildClusterView, isAlive, FAILED_CHANGES_TO_PASS_OVER } from '../../src/roles/cluster-view.js';
import { evaluate } from '../../src/policy/evaluate.js';
import { loadPolicy } from '../../src/policy/load.js';
import { parseControlPlane, parseInFlight } from '../../src/roles/control-plane-record.js';
import type { Member, RoleRecord, Verdict } from '../../src/state/schema.js';

function member(id: string, over: Partial<Member> = {}): Member {
  return { id, name: id, addresses: [], facts: { cpus: 2, memoryMB: 2048, diskGB: 10, arch: 'amd64' }, labels: {}, joinedAt: 1, leftAt: null, incarnation: 0, ...over };
}
const verdict = (status: Verdict['status'], incarnation: number): Verdict => ({ status, incarnation, by: 'x', at: 1 });
const role = (r: RoleRecord['role'], phase = 'ready', detail: string | null = null): RoleRecord => ({ role: r, phase, detail, at: 1 });

test('a down verdict covers the incarnation it names; a refutation raises the member above it', () => {
  assert.equal(isAlive(member('a'), undefined), true);
  assert.equal(isAlive(member('a'), verdict('down', 0)), false);
  assert.equal(isAlive(member('a', { incarnation: 1 }), verdict('down', 0)), true);
  assert.equal(isAlive(member('a', { incarnation: 1 }), verdict('alive', 1)), true);
  assert.equal(isAlive(member('a', { leftAt: 5 }), undefined), false);
});

test('seats come from the recorded control plane, not from what a node claims', () => {
  const view = buildClusterView({
    members: [member('a'), member('b'), member('c')],
    verdicts: {},
    roles: { a: role('manager+worker'), b: role('manager'), c: role('worker') },
    controlPlane: parseControlPlane({ members: ['a'], epoch: 2, by: 'a', at: 1 }),
    policyKey: 'p@1',
  });
  assert.deepEqual(view.members.map((m) => [m.id, m.role]), [['a', 'manager+worker'], ['b', null], ['c', 'worker']]);
  assert.deepEqual(view.controlPlane, ['a']);
});

test('members that left are dropped unless they still hold a recorded seat', () => {
  const view = buildClusterView({
    members: [member('a', { leftAt: 3 }), member('b', { leftAt: 3 }), member('c')],
    verdicts: {},
    roles: {},
    controlPlane: parseControlPlane({ members: ['b', 'c'], epoch: 1, by: 'c', at: 1 }),
    policyKey: 'p@1',
  });
  assert.deepEqual(view.members.map((m) => [m.id, m.alive]), [['b', false], ['c', true]]);
});

test('in-flight changes come from role records in the changing phase; junk is ignored', () => {
  const change = JSON.stringify({ kind: 'promote', node: 'b', actor: 'b' });
  const view = buildClusterView({
    members: [member('a'), member('b'), member('c')],
    verdicts: {},
    roles: { b: role('worker', 'changing', change), c: role('worker', 'changing', '{not json') },
    controlPlane: parseControlPlane(undefined),
    policyKey: 'p@1',
  });
  assert.deepEqual(view.inFlight, [{ node: 'b', change: { kind: 'promote', node: 'b', actor: 'b' } }]);
  assert.equal(parseInFlight('{"kind":"explode","node":"a","actor":"a"}'), undefined);
});

test('seats lost with their member state come from seated members\' own records; they keep their seat meanwhile', () => {
  const view = buildClusterView({
    members: [member('a'), member('b'), member('c')],
    verdicts: {},
    roles: { a: role('manager', 'seat-lost'), b: role('manager'), c: role('worker', 'seat-lost') },
    controlPlane: parseControlPlane({ members: ['a', 'b'], epoch: 2, by: 'a', at: 1 }),
    policyKey: 'p@1',
  });
  assert.deepEqual(view.seatLost, ['a']);
  assert.deepEqual(view.members.map((m) => [m.id, m.role]), [['a', 'manager'], ['b', 'manager'], ['c', 'worker']]);
});

test('the digest is independent of input order and changes with the policy and liveness', () => {
  const base = { verdicts: {}, roles: {}, controlPlane: parseControlPlane(undefined), policyKey: 'p@1' };
  const one = buildClusterView({ ...base, members: [member('a'), member('b')] });
  const two = buildClusterView({ ...base, members: [member('b'), member('a')] });
  assert.equal(one.digest, two.digest);
  assert.notEqual(one.digest, buildClusterView({ ...base, policyKey: 'p@2', members: [member('a'), member('b')] }).digest);
  assert.notEqual(one.digest, buildClusterView({ ...base, verdicts: { a: verdict('down', 0) }, members: [member('a'), member('b')] }).digest);
});

test('a malformed control-plane record reads as empty', () => {
  for (const bad of [null, 3, 'x', [], { members: 'a', epoch: 1 }, { members: ['a'], epoch: -1 }, { members: [1], epoch: 1 }]) {
    assert.deepEqual(parseControlPlane(bad).members, []);
  }
});

test('a node whose driver failed too many changes in a row goes to the back of the line for a new seat, and says why; a seated one keeps its seat', () => {
  const loaded = loadPolicy('apiVersion: pace/v1\nkind: ClusterPolicy\nmetadata: { name: three, version: 1 }\nspec:\n  driver: { name: log }\n  managers:\n    count: [ { atLeast: 1, managers: 1 }, { atLeast: 3, managers: 3 } ]\n', 'three.yaml');
  assert.ok(loaded.ok);
  const failing = (n: number): RoleRecord => ({ ...role('worker', 'failed', 'promote of d failed: read-only file system'), failedChanges: n });
  const viewWith = (d: RoleRecord, seated: string[] = ['a', 'b']) =>
    buildClusterView({
      members: ['a', 'b', 'c', 'd', 'e'].map((id) => member(id)),
      verdicts: {},
      roles: { a: role('manager'), b: role('manager'), c: role('worker'), d, e: role('worker') },
      controlPlane: parseControlPlane({ members: seated, epoch: 2, by: 'a', at: 1 }),
      policyKey: 'p@1',
    });
  const without = (view: ReturnType<typeof viewWith>, dead: string[]) => evaluate(loaded.policy, { members: view.members.map((m) => (dead.includes(m.id) ? { ...m, alive: false } : m)) });
  // All facts equal: ties break by id. With c dead, d is next in line for the third seat.
  const below = viewWith(failing(FAILED_CHANGES_TO_PASS_OVER - 1));
  assert.equal(below.members.find((m) => m.id === 'd')?.passedOver, undefined);
  assert.deepEqual(without(below, ['c']).managers, ['a', 'b', 'd']);
  const at = viewWith(failing(FAILED_CHANGES_TO_PASS_OVER));
  assert.equal(at.members.find((m) => m.id === 'd')?.passedOver, true);
  assert.notEqual(at.digest, below.digest, 'being passed over is a view change (it restarts the stabilization window)');
  const passed = without(at, ['c']);
  assert.deepEqual(passed.managers, ['a', 'b', 'e'], 'the seat goes to the next in line');
  assert.deepEqual(passed.passedOver, ['d']);
  assert.match(passed.nodes.find((n) => n.id === 'd')?.summary ?? '', /^passed over: its control-plane software failed to take a seat several times in a row/);
  // With no other candidate left it is still given the seat: passing over never leaves a seat empty.
  const last = without(at, ['c', 'e']);
  assert.deepEqual([last.target, last.managers], [3, ['a', 'b', 'd']]);
  // Seated, the count does not take its seat away; it only passes the member over as a remover.
  const seated = viewWith(failing(FAILED_CHANGES_TO_PASS_OVER), ['a', 'b', 'd']);
  assert.equal(seated.members.find((m) => m.id === 'd')?.passedOver, undefined);
  assert.deepEqual(seated.failingActors, ['d']);
  assert.deepEqual(at.failingActors, [], 'only members act on removes');
});

