/**
 * End to end: a 3|2 partition of five real agents, each in its own network namespace on a
 * bridge (docs/REAL-ENV.md), cut with nft bridge rules in the switch namespace. The control
 * plane (n1, n2, n3) sits on the 3-node side, so the 2-node side cannot reach a majority of it:
 * it reports `minority: true` and makes no manager change. After healing, every node converges
 * to one assignment again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MemberStatus, NodeStatus } from '../../src/api/node-control.js';
import { AgentFleet, FIVE_AGENTS, sitePolicy, type AgentSpec } from '../support/agent-fleet.js';
import { BridgeNet, nftUnavailable } from '../support/bridge-net.js';
import { netnsUnavailable } from '../support/netns.js';

const POLICY = sitePolicy(1, '    prefer: [ "node.memoryMB" ]');
const SPECS: readonly AgentSpec[] = FIVE_AGENTS;
const MAJORITY = [0, 1, 2];
const MINORITY = [3, 4];
const MANAGERS = ['n1', 'n2', 'n3'];

const skip = netnsUnavailable() ?? nftUnavailable();

describe('pace agent fleet under a 3|2 partition (5 hosts on a bridge)', { skip }, () => {
  let net: BridgeNet;
  let fleet: AgentFleet;

  before(async () => {
    net = BridgeNet.create(SPECS.length);
    fleet = await AgentFleet.create(net);
    await writeFile(join(fleet.dir, 'policy.yaml'), POLICY);
    await fleet.explain(async () => {
      await fleet.startAll(SPECS);
      await fleet.waitForMembers(0, (ms) => ms.length === 5 && ms.every((m) => m.alive));
    });
  });

  after(async () => {
    await fleet?.destroy();
    await net?.cleanup();
  });

  const settled = (all: NodeStatus[]): boolean =>
    all.every(
      (s) =>
        s.policy?.version === 1 &&
        !s.minority &&
        fleet.names(s.managers).join() === MANAGERS.join() &&
        fleet.names(s.controlPlane).join() === MANAGERS.join() &&
        s.role === s.desiredRole &&
        s.role === (MANAGERS.includes(s.node.name) ? 'manager+worker' : 'worker'),
    );

  it('the 2-node side reports minority and changes no manager; after healing all converge', () =>
    fleet.explain(async () => {
      const apply = await fleet.pace(0, ['policy', 'apply', join(fleet.dir, 'policy.yaml'), '--key', fleet.keyFile]);
      assert.equal(apply.code, 0, apply.stderr);
      await fleet.waitForStatuses('roles assigned on all 5', settled);

      const offsets = fleet.agents.map((a) => fleet.logText(a).length);
      net.partition(MAJORITY, MINORITY);

      // The minority side declares the other three down, wants n4 as its one manager, and
      // cannot act: it reaches none of the three recorded control-plane members.
      const minority = await fleet.waitForStatuses(
        'the 2-node side in minority',
        (all) => all.every((s) => s.minority && fleet.names(s.managers).join() === 'n4'),
        { indices: MINORITY },
      );
      for (const s of minority) {
        assert.deepEqual(fleet.names(s.controlPlane), MANAGERS, `${s.node.name}: control plane unchanged`);
        assert.equal(s.role, 'worker', `${s.node.name}: no promotion in the minority`);
      }
      // The majority side sees two workers gone; its three managers keep their seats.
      await fleet.waitForStatuses(
        'the 3-node side sees the minority down and keeps its managers',
        (all) => all.every((s) => !s.minority && fleet.names(s.managers).join() === MANAGERS.join()),
        { indices: MAJORITY },
      );
      // Each minority node is declared down after its own suspicion, not necessarily by the time
      // the minority side reports itself: wait for both (a snapshot here raced with the second).
      const downOnMajority = (members: MemberStatus[]): string[] => members.filter((m) => !m.alive).map((m) => m.name).sort();
      const majorityMembers = await fleet.waitForMembers(0, (ms) => downOnMajority(ms).length >= 2);
      assert.deepEqual(downOnMajority(majorityMembers), ['n4', 'n5']);
      // Stay partitioned past several stabilization windows (2 s), then check nothing moved.
      await new Promise((r) => setTimeout(r, 8_000));
      const still = await fleet.waitForStatuses('still frozen', (all) => all.every((s) => s.minority), { indices: MINORITY });
      for (const s of still) {
        assert.deepEqual(fleet.names(s.controlPlane), MANAGERS);
        assert.equal(s.role, 'worker');
      }
      for (const i of MINORITY) {
        const a = fleet.agent(i);
        const changes = fleet.logLines(a, offsets[i]).filter((l) => l['msg'] === 'control-plane change' || String(l['msg']).startsWith('control-plane change:'));
        assert.deepEqual(changes, [], `${a.spec.name} made a control-plane change in the minority`);
      }

      net.heal();
      const healed = await fleet.waitForStatuses('one assignment everywhere after healing', settled);
      assert.equal(new Set(healed.map((s) => `${s.managers.join()}|${s.controlPlane.join()}`)).size, 1);
      await fleet.waitForMembers(4, (ms) => ms.length === 5 && ms.every((m) => m.alive));
    }));
});
