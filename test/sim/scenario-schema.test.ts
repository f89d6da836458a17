/** Scenario files: every shipped one loads; a bad one is refused with file:line and the field. */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { membershipFor } from '../../src/membership/profiles.js';
import { loadScenario, parseScenario, ScenarioError } from '../../simulations/fleet/scenario.js';

const BASE = `name: t
fleet:
  size: 3
policy:
  file: policies/site-ha.yaml
duration: 30s
`;

function error(text: string): ScenarioError {
  try {
    parseScenario(text, 'bad.yaml');
  } catch (err) {
    assert.ok(err instanceof ScenarioError, String(err));
    return err;
  }
  assert.fail('expected a ScenarioError');
}

describe('Scenario files', () => {
  it('every shipped scenario loads', () => {
    const files = readdirSync('simulations/scenarios').filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 10);
    for (const f of files) assert.ok(loadScenario(`simulations/scenarios/${f}`).name.length > 0, f);
  });

  it('a shipped scenario finds its policy from any working directory (PACE\'s own policies/)', () => {
    const scenario = loadScenario(resolve('simulations/scenarios/cold-start.yaml'), { root: tmpdir() });
    assert.equal(scenario.policy.source, 'policies/site-ha.yaml');
    const missing = error(BASE.replace('policies/site-ha.yaml', 'policies/no-such.yaml'));
    assert.match(missing.message, /policy file 'policies\/no-such.yaml' not found \(looked in /);
  });

  it('an unknown key names its file, line and field', () => {
    const e = error(`${BASE}expect:\n  managerz: 3\n`);
    assert.equal(e.message, "bad.yaml:8: expect.managerz: unknown key 'managerz' (allowed: managers, managerNodes, convergeWithin, reassignWithin)");
  });

  it('a bad duration, a node that does not exist, a fault after the end', () => {
    assert.match(error(`${BASE}faults:\n  - at: soon\n    heal: true\n`).message, /^bad\.yaml:8: faults\[0\]\.at: expected a duration/);
    assert.match(error(`${BASE}faults:\n  - at: 1s\n    crash: n07\n`).message, /^bad\.yaml:9: faults\[0\]\.crash: 'n07' is not a node of this fleet/);
    assert.match(error(`${BASE}faults:\n  - at: 40s\n    heal: true\n`).message, /^bad\.yaml:8: faults\[0\]\.at: at 40000 ms is after the end/);
    assert.match(error(`${BASE}faults:\n  - at: 1s\n    crash: n01\n    heal: true\n`).message, /exactly one action/);
  });

  it('a broken driver: the calls it names are checked, and they default to every call', () => {
    const parsed = parseScenario(`${BASE}faults:\n  - at: 1s\n    driverFails: { node: n02, calls: [promote], reason: disk read-only }\n  - at: 2s\n    driverFails: { node: n03 }\n  - at: 3s\n    driverRepaired: n02\n`, 'ok.yaml');
    assert.deepEqual(
      parsed.faults.map((f) => f.action),
      [
        { kind: 'driverFails', node: { kind: 'id', id: 'n02' }, calls: ['promote'], reason: 'disk read-only' },
        { kind: 'driverFails', node: { kind: 'id', id: 'n03' }, calls: ['ensure', 'bootstrap', 'promote', 'demote', 'remove'], reason: 'injected: the control-plane software cannot run on this machine' },
        { kind: 'driverRepaired', node: { kind: 'id', id: 'n02' } },
      ],
    );
    assert.match(error(`${BASE}faults:\n  - at: 1s\n    driverFails: { node: n02, calls: [promot] }\n`).message, /^bad\.yaml:9: faults\[0\]\.driverFails\.calls\[0\]: 'promot' is no driver call \(ensure, bootstrap, promote, demote, remove\)/);
  });

  it("membership: the daemon's default profile unless the scenario names one, with overrides from the same table", () => {
    assert.deepEqual(parseScenario(BASE, 'ok.yaml').membership, { profile: 'lan', overrides: {}, settings: membershipFor('lan') });
    assert.deepEqual(parseScenario(`${BASE}membership: local\n`, 'ok.yaml').membership, { profile: 'local', overrides: {}, settings: membershipFor('local') });
    const custom = parseScenario(`${BASE}membership: { profile: wan, probeIntervalMs: 4000, syncIntervalMs: 5000 }\n`, 'ok.yaml').membership;
    assert.deepEqual(custom, { profile: 'wan', overrides: { probeIntervalMs: 4_000, syncIntervalMs: 5_000 }, settings: membershipFor('wan', { probeIntervalMs: 4_000, syncIntervalMs: 5_000 }) });
    assert.equal(parseScenario(`${BASE}membership: { reconnectIntervalMs: 2000 }\n`, 'ok.yaml').membership.profile, 'lan');
    assert.match(error(`${BASE}membership: fast\n`).message, /^bad\.yaml:7: membership: expected a profile \(lan, wan, local\) or a mapping, got 'fast'/);
    assert.match(error(`${BASE}membership: { probeIntervalMS: 200 }\n`).message, /^bad\.yaml:7: membership\.probeIntervalMS: unknown key 'probeIntervalMS'/);
    assert.match(error(`${BASE}membership: { probeTimeoutMs: 2000 }\n`).message, /^bad\.yaml:7: membership: membership config: probeTimeoutMs: must be < probeIntervalMs/);
  });

  it('an invalid inline policy is refused before anything runs', () => {
    const e = error(`name: t\nfleet: { size: 3 }\npolicy:\n  inline: "apiVersion: nope"\nduration: 30s\n`);
    assert.match(e.message, /^bad\.yaml:4: policy: the policy is invalid: line 1: /);
  });
});
