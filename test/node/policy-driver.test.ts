/** PolicyDriver builds the driver the active policy names from the node's registry and routes every call to it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DriverUnavailableError, PolicyDriver, type NodeDriverContext } from '../../src/node/policy-driver.js';
import { loadPolicy } from '../../src/policy/load.js';
import type { EtcdSettings } from '../../src/policy/driver-settings/etcd.js';
import type { ActivePolicy } from '../../src/roles/active-policy.js';
import type { DriverContext, RoleDriver } from '../../src/roles/driver.js';
import { RecordingLogger } from '../support/recording-logger.js';

function policyWith(driver: string, version = 1, settings = '{}'): ActivePolicy {
  const loaded = loadPolicy(
    `apiVersion: pace/v1
kind: ClusterPolicy
metadata: { name: p, version: ${version} }
spec:
  driver: { name: ${driver}, settings: ${settings} }
  managers:
    count: [ { atLeast: 1, managers: 1 } ]
`,
    'p.yaml',
  );
  assert.ok(loaded.ok, JSON.stringify(loaded));
  return { policy: loaded.policy, key: `p@${version}:${driver}` };
}

const stateless: RoleDriver = { ensure: () => Promise.resolve(), changeControlPlane: (_c, members) => Promise.resolve([...members]) };

const node: NodeDriverContext = { self: 'node-a', cluster: 'site', logger: new RecordingLogger(), addresses: () => ['/ip4/10.0.0.1/tcp/7600'], memberAddresses: (id) => (id === 'node-b' ? ['/ip4/10.0.0.2/tcp/7600'] : []) };

describe('PolicyDriver', () => {
  it("asks the current policy's driver whether this node still holds its seat; a driver without member state always does", async () => {
    let active = policyWith('etcd');
    let memberData = false;
    const etcd: RoleDriver = { ...stateless, holdsSeat: () => Promise.resolve(memberData) };
    const driver = new PolicyDriver(() => active, { etcd: () => etcd, log: () => stateless }, node);
    assert.equal(await driver.holdsSeat({}), false);
    memberData = true;
    assert.equal(await driver.holdsSeat({}), true);
    active = policyWith('log');
    memberData = false;
    assert.equal(await driver.holdsSeat({}), true);
  });

  it('a driver this build cannot run fails clearly, for holdsSeat as for the other calls', async () => {
    const driver = new PolicyDriver(() => policyWith('k3s'), { log: () => stateless }, node);
    await assert.rejects(driver.holdsSeat({}), (err: unknown) => err instanceof DriverUnavailableError && /'k3s' is not available .*available: log/.test(err.message));
    await assert.rejects(async () => driver.ensure('worker', {}), DriverUnavailableError);
  });

  it('builds each driver once, on first use, and hands it the parsed settings of the policy in force', async () => {
    let active: ActivePolicy | undefined;
    const contexts: DriverContext<EtcdSettings>[] = [];
    let builds = 0;
    const driver = new PolicyDriver(() => active, {
      log: () => stateless,
      etcd: (ctx) => {
        builds += 1;
        contexts.push(ctx);
        return stateless;
      },
    }, node);
    await driver.ensure('none', {}); // no policy yet: the log driver
    assert.equal(builds, 0);
    active = policyWith('etcd', 1, '{ clientPort: 12379, peerPort: 12380 }');
    await driver.ensure('manager', {});
    active = policyWith('etcd', 2, '{ clientPort: 22379, peerPort: 22380 }');
    await driver.changeControlPlane({ kind: 'bootstrap', node: 'node-a', actor: 'node-a' }, [], {});
    assert.equal(builds, 1, 'a policy update keeps the driver (and its handle on running software)');
    const ctx = contexts[0]!;
    assert.equal(ctx.settings().clientPort, 22379, 'settings follow the policy in force');
    assert.equal(ctx.self, 'node-a');
    assert.deepEqual(ctx.memberAddresses('node-b'), ['/ip4/10.0.0.2/tcp/7600']);
  });
});
