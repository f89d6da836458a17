/** The per-node spread of the stabilization window in large fleets (role-controller.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ROLE_SPREAD_MS, ROLE_SPREAD_ABOVE, roleSpreadMs } from '../../src/roles/role-controller.js';

test('small sites wait no extra; large fleets spread their nodes over up to 2 ms per member, at most 2 s', () => {
  for (const n of [1, 5, ROLE_SPREAD_ABOVE]) assert.equal(roleSpreadMs('n001', n), 0);
  const ids = Array.from({ length: 1_000 }, (_, i) => `n${String(i).padStart(4, '0')}`);
  const at100 = ids.slice(0, 100).map((id) => roleSpreadMs(id, 100));
  assert.ok(at100.every((ms) => ms >= 0 && ms < 200), 'within 2 ms × 100 members');
  const at1000 = ids.map((id) => roleSpreadMs(id, 1_000));
  assert.ok(at1000.every((ms) => ms >= 0 && ms < MAX_ROLE_SPREAD_MS));
  assert.ok(new Set(at1000).size > 500, 'nodes land on many different milliseconds');
  const firstHalf = at1000.filter((ms) => ms < MAX_ROLE_SPREAD_MS / 2).length;
  assert.ok(firstHalf > 400 && firstHalf < 600, `about even: ${firstHalf} of 1,000 in the first half`);
  assert.deepEqual(ids.map((id) => roleSpreadMs(id, 1_000)), at1000, 'fixed per node');
});
