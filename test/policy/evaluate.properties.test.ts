/**
 * Property-based tests of evaluate(): the guarantees every node relies on to reach the same
 * answer without a leader. Each property runs over generated policies and fleets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evaluate, UNLABELLED } from '../../src/policy/evaluate.js';
import { celNode } from '../../src/policy/cel.js';
import { isManagerRole, type Assignment, type MemberView, type Policy } from '../../src/policy/types.js';
import { buildPolicy, fleetArb, memberArb, policyParamsArb } from '../support/policy-builders.js';

const RUNS = { numRuns: 150 };

function withRoles(members: MemberView[], a: Assignment): MemberView[] {
  const roles = new Map(a.nodes.map((n) => [n.id, n.role]));
  return members.map((m) => ({ ...m, role: roles.get(m.id) ?? null }));
}

function eligibleLive(policy: Policy, members: MemberView[]): MemberView[] {
  return members.filter((m) => {
    if (!m.alive) return false;
    const r = policy.managers.eligible.evaluate(celNode(m.id, m.facts, m.labels));
    return r.ok && r.value === true;
  });
}

function expectedTarget(policy: Policy, eligible: number): number {
  let target = 0;
  for (const step of policy.managers.count) if (step.atLeast <= eligible) target = step.managers;
  return target;
}

test('the assignment does not depend on the order of the members', () => {
  fc.assert(
    fc.property(policyParamsArb, fleetArb(20), fc.infiniteStream(fc.nat()), (params, members, stream) => {
      const policy = buildPolicy(params);
      const shuffled = [...members];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = stream.next().value % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      assert.deepEqual(evaluate(policy, { members: shuffled }), evaluate(policy, { members }));
    }),
    RUNS,
  );
});

test('exactly the asked number of managers, never more, from eligible live nodes only', () => {
  fc.assert(
    fc.property(policyParamsArb, fleetArb(24), (params, members) => {
      const policy = buildPolicy(params);
      const a = evaluate(policy, { members });
      const eligible = eligibleLive(policy, members);
      const eligibleIds = new Set(eligible.map((m) => m.id));
      assert.equal(a.eligibleLive, eligible.length);
      assert.equal(a.target, expectedTarget(policy, eligible.length));
      assert.ok(a.target <= eligible.length, 'a count step never asks for more managers than eligible nodes');
      assert.equal(a.managers.length, a.target);
      for (const id of a.managers) assert.ok(eligibleIds.has(id), `${id} is a manager but not alive and eligible`);
      for (const n of a.nodes) {
        assert.equal(isManagerRole(n.role), a.managers.includes(n.id));
        const m = members.find((x) => x.id === n.id)!;
        if (!m.alive) assert.equal(n.role, 'none');
        if (n.role === 'manager+worker') assert.ok(params.alsoWorker);
        assert.ok(n.reasons.length > 0, 'every decision carries its reasons');
      }
    }),
    RUNS,
  );
});

test('a passed-over node takes a new seat only when no other eligible live node is left for it', () => {
  fc.assert(
    fc.property(policyParamsArb, fleetArb(24), (params, members) => {
      const policy = buildPolicy(params);
      const a = evaluate(policy, { members });
      const newcomers = (ids: readonly string[]) => ids.filter((id) => !isManagerRole(members.find((m) => m.id === id)!.role));
      const passedOverSeated = newcomers(a.managers).filter((id) => a.passedOver.includes(id));
      if (passedOverSeated.length === 0) return;
      const eligible = eligibleLive(policy, members).map((m) => m.id);
      const leftOut = eligible.filter((id) => !a.managers.includes(id) && !a.passedOver.includes(id));
      assert.deepEqual(leftOut, [], `${passedOverSeated.join(', ')} passed over but seated while ${leftOut.join(', ')} waits`);
    }),
    RUNS,
  );
});

test('managers are spread across the spreadBy label as evenly as the fleet allows', () => {
  fc.assert(
    fc.property(policyParamsArb, fleetArb(24, { roles: false }), (params, members) => {
      const policy = buildPolicy({ ...params, spreadBy: 'zone' });
      const a = evaluate(policy, { members });
      const seats = new Map<string, number>();
      const capacity = new Map<string, number>();
      for (const m of eligibleLive(policy, members)) {
        const zone = m.labels.zone ?? UNLABELLED;
        // A passed-over node is seated after every other candidate, so it is no spare capacity.
        if (m.passedOver !== true) capacity.set(zone, (capacity.get(zone) ?? 0) + 1);
        if (a.managers.includes(m.id)) seats.set(zone, (seats.get(zone) ?? 0) + 1);
      }
      for (const [za, ca] of capacity) {
        for (const [zb, cb] of capacity) {
          const sa = seats.get(za) ?? 0;
          const sb = seats.get(zb) ?? 0;
          // Zone A may hold 2+ more seats than zone B only when B has no eligible node left.
          if (sa >= sb + 2) assert.ok(sb >= cb, `zone ${za} holds ${sa} seats, ${zb} only ${sb} of ${cb} eligible`);
          void ca;
        }
      }
    }),
    RUNS,
  );
});

test('re-evaluating with the assigned roles changes nothing (the assignment is a fixpoint)', () => {
  fc.assert(
    fc.property(policyParamsArb, fleetArb(20), (params, members) => {
      const policy = buildPolicy(params);
      const first = evaluate(policy, { members });
      const second = evaluate(policy, { members: withRoles(members, first) });
      assert.deepEqual(second.managers, first.managers);
      assert.deepEqual(second.nodes.map((n) => n.role), first.nodes.map((n) => n.role));
    }),
    RUNS,
  );
});

test('stickiness: adding an eligible node never demotes a live manager', () => {
  fc.assert(
    fc.property(policyParamsArb, fleetArb(20), memberArb('zz-new', { alive: true, roles: false }), (params, members, joiner) => {
      const policy = buildPolicy({ ...params, sticky: true });
      const before = evaluate(policy, { members });
      const after = evaluate(policy, { members: [...withRoles(members, before), joiner] });
      for (const id of before.managers) assert.ok(after.managers.includes(id), `${id} was demoted when ${joiner.id} joined`);
    }),
    RUNS,
  );
});

test('minimal churn: one manager dying changes exactly |T\' - (T - 1)| other roles (one when T is unchanged)', () => {
  fc.assert(
    fc.property(policyParamsArb, fleetArb(20), fc.nat(), (params, members, pick) => {
      const policy = buildPolicy({ ...params, sticky: true });
      const before = evaluate(policy, { members });
      fc.pre(before.managers.length > 0);
      const victim = before.managers[pick % before.managers.length]!;
      const current = withRoles(members, before).map((m) => (m.id === victim ? { ...m, alive: false } : m));
      const after = evaluate(policy, { members: current });
      const roleBefore = new Map(before.nodes.map((n) => [n.id, n.role]));
      const changed = after.nodes.filter((n) => n.id !== victim && n.role !== roleBefore.get(n.id)).map((n) => n.id);
      const expected = Math.abs(after.target - (before.target - 1));
      assert.equal(changed.length, expected, `changed ${changed.join(',')} (T ${before.target} → ${after.target})`);
      if (after.target === before.target) assert.ok(changed.length <= 1);
    }),
    RUNS,
  );
});

test('evaluation is deterministic: the same input twice gives the same output', () => {
  fc.assert(
    fc.property(policyParamsArb, fleetArb(16), (params, members) => {
      const policy = buildPolicy(params);
      assert.deepEqual(evaluate(policy, { members }), evaluate(buildPolicy(params), { members: structuredClone(members) }));
    }),
    { numRuns: 60 },
  );
});
