/**
 * End to end: five real `pace agent` processes on loopback inside a private network namespace,
 * joined by a bootstrap list (real libp2p, real failure detection, the log driver). Steps share
 * one fleet and run in order: a policy applied at one node reaches all and roles follow it; an
 * update applied at another node moves the roles; bad policies are rejected everywhere without
 * touching the active one; a killed manager is replaced and comes back with its identity; a
 * leaving manager hands its seat over without failure detection.
 *
 * Windows are short (stabilization 2s, failureGrace 1s, `local` membership profile); waits use
 * generous deadlines and never assert on elapsed time.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MemberStatus, NodeStatus } from '../../src/api/node-control.js';
import { readPrivateKeyFile } from '../../src/signing/key-files.js';
import { generateOperatorKey } from '../../src/signing/operator-key.js';
import { SIGNED_POLICY_FORMAT, signedBytes, signPolicy, type SignedPolicyEnvelope } from '../../src/signing/signed-policy.js';
import { AgentFleet, FIVE_AGENTS, sitePolicy, type AgentSpec } from '../support/agent-fleet.js';
import { LoopbackNet } from '../support/bridge-net.js';
import { netnsUnavailable } from '../support/netns.js';

/** v1: the biggest machines manage (sticky). v2: the smallest ones do, recomputed freely. */
const V1 = sitePolicy(1, '    prefer: [ "node.memoryMB" ]');
const V2 = sitePolicy(2, '    prefer: [ "0 - node.memoryMB" ]\n    sticky: false');

const SPECS: readonly AgentSpec[] = FIVE_AGENTS;
const MANAGER = 'manager+worker';

const skip = netnsUnavailable();

describe('pace agent fleet (5 agents, loopback, private netns)', { skip }, () => {
  let net: LoopbackNet;
  let fleet: AgentFleet;

  before(async () => {
    net = LoopbackNet.create();
    fleet = await AgentFleet.create(net);
    await writeFile(join(fleet.dir, 'v1.yaml'), V1);
    await writeFile(join(fleet.dir, 'v2.yaml'), V2);
    await fleet.explain(async () => {
      await fleet.startAll(SPECS);
      // Everyone knows everyone before the first policy (the member list is replicated).
      await fleet.waitForStatuses('all agents up', (all) => all.length === 5);
      await fleet.waitForMembers(0, (ms) => ms.length === 5 && ms.every((m) => m.alive));
    });
  });

  after(async () => {
    await fleet?.destroy();
    await net?.cleanup();
  });

  /** Every listed agent has the policy version and managers (by name), the recorded control plane equals them, and every role is the one the policy wants. */
  function settled(version: number, managers: string[]) {
    return (all: NodeStatus[]): boolean =>
      all.every(
        (s) =>
          s.policy?.version === version &&
          fleet.names(s.managers).join() === managers.join() &&
          fleet.names(s.controlPlane).join() === managers.join() &&
          s.role === s.desiredRole &&
          s.role === (managers.includes(s.node.name) ? MANAGER : 'worker'),
      );
  }

  it('a policy applied at one node reaches every node; roles are assigned as it says, identically everywhere', () =>
    fleet.explain(async () => {
      const apply = await fleet.pace(2, ['policy', 'apply', join(fleet.dir, 'v1.yaml'), '--key', fleet.keyFile]);
      assert.equal(apply.code, 0, apply.stderr);
      assert.match(apply.stdout, /applied e2e-site v1/);
      // v1 prefers memory: n1 (5000), n2 (4000), n3 (3000) take the three seats.
      const all = await fleet.waitForStatuses('v1 applied and roles assigned on all 5', settled(1, ['n1', 'n2', 'n3']));
      assert.equal(new Set(all.map((s) => s.managers.join())).size, 1, 'identical assignment on every node');
      assert.ok(all.every((s) => !s.minority && s.rejectedPolicy === null));
      // A quiet cluster reports itself converged (status syncs with the peers to find out).
      await fleet.waitForStatuses('converged everywhere', (xs) => xs.every((s) => s.converged && s.peers === 4));

      // The same, through the CLI as an operator sees it.
      const status = await fleet.paceJson<NodeStatus>(4, ['status']);
      assert.deepEqual(fleet.names(status.managers), ['n1', 'n2', 'n3']);
      assert.equal(status.role, 'worker');
      const members = await fleet.paceJson<MemberStatus[]>(0, ['members']);
      assert.deepEqual(Object.fromEntries(members.map((m) => [m.name, m.role])), { n1: MANAGER, n2: MANAGER, n3: MANAGER, n4: 'worker', n5: 'worker' });
      const shown = await fleet.paceJson<{ version: number; yaml: string }>(3, ['policy', 'show']);
      assert.equal(shown.version, 1);
      assert.equal(shown.yaml, V1);
    }));

  it('a policy update applied at another node reaches all and roles follow it', () =>
    fleet.explain(async () => {
      const apply = await fleet.pace(4, ['policy', 'apply', join(fleet.dir, 'v2.yaml'), '--key', fleet.keyFile, '--json']);
      assert.equal(apply.code, 0, apply.stderr);
      assert.deepEqual(JSON.parse(apply.stdout), { accepted: true, name: 'e2e-site', version: 2 });
      // v2 prefers the smallest machines and is not sticky: n5, n4, n3 manage; n1 and n2 are demoted.
      const all = await fleet.waitForStatuses('v2 applied and roles moved on all 5', settled(2, ['n3', 'n4', 'n5']));
      assert.equal(new Set(all.map((s) => s.managers.join())).size, 1);
    }));

  it('forged, untrusted, stale and malformed policies are rejected (exit 5, code) and change nothing', () =>
    fleet.explain(async () => {
      const key = await readPrivateKeyFile(fleet.keyFile);
      const v3 = sitePolicy(3, '    prefer: [ "node.memoryMB" ]');
      const good = signPolicy(v3, key);
      assert.ok(good.ok);
      const other = signPolicy(v3, generateOperatorKey('intruder'));
      assert.ok(other.ok);
      const v1 = signPolicy(V1, key);
      assert.ok(v1.ok);
      const brokenYaml = 'apiVersion: pace/v1\nkind: ClusterPolicy\nmetadata: { name: e2e-site, version: 4 }\nspec: [ unclosed\n';
      const malformedYaml: SignedPolicyEnvelope = {
        format: SIGNED_POLICY_FORMAT,
        name: 'e2e-site',
        version: 4,
        yaml: brokenYaml,
        signer: key.keyId,
        signature: sign(null, signedBytes('e2e-site', 4, brokenYaml), key.key).toString('base64'),
      };
      const { signature: _dropped, ...noSignature } = good.envelope;
      const cases: { name: string; envelope: unknown; code: string; at: number }[] = [
        { name: 'forged', envelope: { ...good.envelope, yaml: v3.replace('node.memoryMB', 'node.cpus') }, code: 'bad-signature', at: 0 },
        { name: 'untrusted', envelope: other.envelope, code: 'untrusted-signer', at: 1 },
        { name: 'stale', envelope: v1.envelope, code: 'stale-version', at: 2 },
        { name: 'malformed-yaml', envelope: malformedYaml, code: 'invalid-policy', at: 3 },
        { name: 'no-signature', envelope: noSignature, code: 'malformed', at: 4 },
      ];
      for (const c of cases) {
        const file = join(fleet.dir, `${c.name}.json`);
        await writeFile(file, JSON.stringify(c.envelope));
        const r = await fleet.pace(c.at, ['policy', 'apply', '--signed', file, '--json']);
        assert.equal(r.code, 5, `${c.name}: exit code (stderr: ${r.stderr})`);
        const verdict = JSON.parse(r.stdout) as { accepted: boolean; code: string };
        assert.deepEqual([verdict.accepted, verdict.code], [false, c.code], c.name);
        const text = await fleet.pace(c.at, ['policy', 'apply', '--signed', file]);
        assert.equal(text.code, 5);
        assert.match(text.stderr, new RegExp(`policy rejected by the node: ${c.code}:`));
        const status = await fleet.status(c.at);
        assert.match(status?.rejectedPolicy?.reason ?? '', new RegExp(`^${c.code}:`), `${c.name}: rejection visible in status`);
      }
      // Give gossip time to carry anything it (wrongly) would, then check every node.
      await new Promise((r) => setTimeout(r, 3_000));
      const all = await fleet.waitForStatuses('v2 still active everywhere', settled(2, ['n3', 'n4', 'n5']));
      assert.ok(all.every((s) => s.policy?.signer === key.keyId));
      const shown = await fleet.paceJson<{ version: number; yaml: string }>(1, ['policy', 'show']);
      assert.deepEqual([shown.version, shown.yaml], [2, V2]);
    }));

  it('kill -9 of a manager: the others reassign its seat; restarted with its data dir it rejoins as itself', () =>
    fleet.explain(async () => {
      const victim = fleet.agent(4); // n5, a manager under v2
      const id = victim.peerId;
      await fleet.kill9(4);
      // Four live eligible nodes: three seats, smallest first: n4, n3, n2.
      const after = await fleet.waitForStatuses('the dead manager replaced on all 4', settled(2, ['n2', 'n3', 'n4']));
      assert.equal(new Set(after.map((s) => s.managers.join())).size, 1);
      const members = await fleet.members(0);
      assert.equal(members?.find((m) => m.name === 'n5')?.alive, false, 'n5 recorded down');

      await fleet.restart(4);
      assert.equal(fleet.agent(4).peerId, id, 'same peer id after restart');
      // Not sticky: n5 ranks first again and takes a seat back (n2 steps down).
      const back = await fleet.waitForStatuses('n5 back and reassigned on all 5', settled(2, ['n3', 'n4', 'n5']));
      assert.equal(back.find((s) => s.node.name === 'n5')?.node.id, id);
    }));

  it('pace leave of a manager hands off without failure detection; SIGINT leaves too', () =>
    fleet.explain(async () => {
      const leaver = fleet.agent(3); // n4, a manager
      const offsets = fleet.agents.map((a) => fleet.logText(a).length);
      const r = await fleet.pace(3, ['leave', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { left: true });
      assert.equal(await leaver.exited, 0, 'the agent exits 0 after leaving');
      // n1, n2, n3, n5 remain: seats go to n5, n3, n2.
      await fleet.waitForStatuses('the leaver\'s seat refilled on all 4', settled(2, ['n2', 'n3', 'n5']));
      const members = await fleet.members(0);
      const gone = members?.find((m) => m.name === 'n4');
      assert.deepEqual([gone?.left, gone?.alive], [true, false], 'n4 shows left');
      // Handed off by the leave itself: no node declared it down.
      for (const a of fleet.agents) {
        const downs = fleet.logLines(a, offsets[a.index]).filter((l) => (l['msg'] === 'writing down verdict' || l['msg'] === 'member declared down') && l['node'] === leaver.peerId);
        assert.deepEqual(downs, [], `${a.spec.name} declared the leaver down`);
      }

      // SIGINT on a worker: it leaves and exits 0; the managers stay.
      assert.equal(await fleet.signal(0, 'SIGINT'), 0);
      await fleet.waitForMembers(1, (ms) => ms.find((m) => m.name === 'n1')?.left === true);
      await fleet.waitForStatuses('managers unchanged after n1 left', settled(2, ['n2', 'n3', 'n5']));
    }));
});
