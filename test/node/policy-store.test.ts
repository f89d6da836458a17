/**
 * PolicyStore: only validly signed policies from trusted keys become active, the highest
 * version wins, a fixed tie-break makes concurrent pushes converge, and nothing rejected ever
 * replaces the active policy.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyStore } from '../../src/node/policy-store.js';
import { generateOperatorKey, type OperatorPrivateKey } from '../../src/signing/operator-key.js';
import { signPolicy, yamlDigest, type SignedPolicyEnvelope } from '../../src/signing/signed-policy.js';
import { policyYaml } from '../support/policy-builders.js';
import { member, TestCluster } from '../support/state-cluster.js';

const operator = generateOperatorKey('ops');
const stranger = generateOperatorKey('stranger');

function signed(version: number, key: OperatorPrivateKey = operator, eligible = 'true'): SignedPolicyEnvelope {
  const yaml = policyYaml({ count: [{ atLeast: 1, managers: 1 }], eligible, prefer: [], alsoWorker: true, sticky: true, workersEligible: 'true' }).replace(
    'version: 1',
    `version: ${version}`,
  );
  const result = signPolicy(yaml, key);
  assert.ok(result.ok, JSON.stringify(result));
  return result.envelope;
}

async function twoNodes(): Promise<{ cluster: TestCluster; a: PolicyStore; b: PolicyStore }> {
  const cluster = new TestCluster();
  const stores: PolicyStore[] = [];
  for (const id of ['a', 'b']) {
    const node = await cluster.add(id);
    node.state.doc.writeOwnMember(member(id));
    const store = new PolicyStore({ doc: node.state.doc, trustedKeys: [operator.publicKey], logger: node.logger });
    node.state.doc.onChange(() => store.sync());
    stores.push(store);
  }
  return { cluster, a: stores[0]!, b: stores[1]! };
}

describe('PolicyStore', () => {
  it('activates a validly signed policy and gossips it to the other node', async () => {
    const { cluster, a, b } = await twoNodes();
    const applied = a.apply(signed(1));
    assert.ok(applied.ok && applied.changed);
    assert.equal(applied.active.envelope.version, 1);
    await cluster.run(3_000);
    assert.equal(b.active()?.policy.version, 1);
    assert.equal(b.envelope()?.signer, operator.publicKey.keyId);
    await cluster.stopAll();
  });

  it('rejects forged, untrusted, stale and conflicting policies without touching the active one', async () => {
    const { cluster, a } = await twoNodes();
    a.apply(signed(2));
    const forged = { ...signed(3), yaml: signed(3, operator, 'node.cpus >= 1').yaml };
    const cases: [unknown, string][] = [
      [forged, 'bad-signature'],
      [signed(3, stranger), 'untrusted-signer'],
      [signed(1), 'stale-version'],
      [signed(2, operator, 'node.cpus >= 1'), 'conflicting-version'],
      [{ hello: 'world' }, 'malformed'],
    ];
    for (const [envelope, code] of cases) {
      const outcome = a.apply(envelope);
      assert.ok(!outcome.ok);
      assert.equal(outcome.reason.code, code);
      assert.equal(a.active()?.policy.version, 2);
      assert.match(a.rejection()?.reason ?? '', new RegExp(code));
    }
    await cluster.stopAll();
  });

  it('a newer policy replaces the active one; re-applying the active one is accepted and changes nothing', async () => {
    const { cluster, a, b } = await twoNodes();
    a.apply(signed(1));
    await cluster.run(2_000);
    assert.equal(b.apply(signed(4)).ok, true);
    await cluster.run(2_000);
    assert.equal(a.active()?.policy.version, 4);
    const again = a.apply(signed(4));
    assert.ok(again.ok);
    assert.equal(again.changed, false);
    assert.equal(again.active.envelope.version, 4);
    await cluster.stopAll();
  });

  it('one policy signed by two trusted keys and pushed into two nodes converges to one envelope', async () => {
    const cluster = new TestCluster();
    const trustedKeys = [operator.publicKey, stranger.publicKey];
    const stores: PolicyStore[] = [];
    for (const id of ['a', 'b']) {
      const node = await cluster.add(id);
      node.state.doc.writeOwnMember(member(id));
      const store = new PolicyStore({ doc: node.state.doc, trustedKeys, logger: node.logger });
      node.state.doc.onChange(() => store.sync());
      stores.push(store);
    }
    const [a, b] = stores as [PolicyStore, PolicyStore];
    cluster.hub.setPartitioned('a', 'b', true);
    const byOperator = signed(6);
    const byStranger = signPolicy(byOperator.yaml, stranger);
    assert.ok(byStranger.ok);
    a.apply(byOperator);
    b.apply(byStranger.envelope);
    cluster.hub.setPartitioned('a', 'b', false);
    await cluster.run(5_000);
    assert.equal(a.envelope()?.signature, b.envelope()?.signature, 'both nodes hold the same envelope');
    assert.ok(cluster.allSameHeads());
    const heads = [...cluster.nodes.values()].map((n) => n.state.doc.heads().join());
    await cluster.run(5_000);
    assert.deepEqual([...cluster.nodes.values()].map((n) => n.state.doc.heads().join()), heads, 'and stop rewriting the slot');
    await cluster.stopAll();
  });

  it('concurrent pushes of different policies converge to one on every node', async () => {
    const { cluster, a, b } = await twoNodes();
    cluster.hub.setPartitioned('a', 'b', true);
    const one = signed(5, operator, 'node.cpus >= 1');
    const two = signed(5, operator, 'node.memoryMB >= 1');
    a.apply(one);
    b.apply(two);
    cluster.hub.setPartitioned('a', 'b', false);
    await cluster.run(5_000);
    const winner = yamlDigest(one.yaml) < yamlDigest(two.yaml) ? one : two;
    assert.equal(a.envelope()?.yaml, winner.yaml);
    assert.equal(b.envelope()?.yaml, winner.yaml);
    assert.ok(cluster.allSameHeads());
    await cluster.stopAll();
  });
});
