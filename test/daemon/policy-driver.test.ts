/** PolicyDriver routes every RoleDriver call to the driver the active policy names. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DriverUnavailableError, PolicyDriver } from '../../src/daemon/policy-driver.js';
import { loadPolicy } from '../../src/policy/load.js';
import type { ActivePolicy, RoleDriver } from '../../src/roles/role-controller.js';

function policyWith(driver: string): ActivePolicy {
  const loaded = loadPolicy(
    `apiVersion: pace/v1
kind: ClusterPolicy
metadata: { name: p, version: 1 }
spec:
  driver: { name: ${driver} }
  managers:
    count: [ { atLeast: 1, managers: 1 } ]
`,
    'p.yaml',
  );
  assert.ok(loaded.ok, JSON.stringify(loaded));
  return { policy: loaded.policy, key: `p@1:${driver}` };
}

const stateless: RoleDriver = { ensure: () => Promise.resolve(), changeControlPlane: (_c, members) => Promise.resolve([...members]) };

describe('PolicyDriver', () => {
  it("asks the current policy's driver whether this node still holds its seat; a driver without member state always does", async () => {
    let active = policyWith('etcd');
    let memberData = false;
    const etcd: RoleDriver = { ...stateless, holdsSeat: () => Promise.resolve(memberData) };
    const driver = new PolicyDriver(() => active, { etcd, log: stateless });
    assert.equal(await driver.holdsSeat({}), false);
    memberData = true;
    assert.equal(await driver.holdsSeat({}), true);
    active = policyWith('log');
    memberData = false;
    assert.equal(await driver.holdsSeat({}), true);
  });

  it('a driver this build cannot run fails clearly, for holdsSeat as for the other calls', async () => {
    const driver = new PolicyDriver(() => policyWith('k3s'), { log: stateless });
    await assert.rejects(driver.holdsSeat({}), DriverUnavailableError);
    await assert.rejects(async () => driver.ensure('worker', {}), DriverUnavailableError);
  });
});
