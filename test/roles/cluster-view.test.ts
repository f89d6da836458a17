/** The evaluation input derived from the document: liveness, roles, in-flight changes, digest. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildClusterView, isAlive } from '../../src/roles/cluster-view.js';
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
