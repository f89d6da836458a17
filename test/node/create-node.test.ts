/**
 * Whole nodes in virtual time: a fleet forms, a policy pushed into one node reaches all, roles
 * follow it identically everywhere, a dead manager is replaced, and a restarted node comes back.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateOperatorKey } from '../../src/signing/operator-key.js';
import { signPolicy } from '../../src/signing/signed-policy.js';
import { isManagerRole } from '../../src/policy/types.js';
import { encodeMessage, SWIM_WIRE_VERSION, swimProtocol } from '../../src/membership/wire.js';
import { NodeFleet } from '../support/node-fleet.js';
import type { PaceNode } from '../../src/node/create-node.js';

const operator = generateOperatorKey('ops');
const POLICY = `apiVersion: pace/v1
kind: ClusterPolicy
metadata: { name: site, version: 1 }
spec:
  driver: { name: log }
  managers:
    count: [ { atLeast: 1, managers: 1 }, { atLeast: 3, managers: 3 } ]
    prefer: [ "node.memoryMB" ]
    alsoWorker: true
  timing: { stabilization: 2s, failureGrace: 1s }
`;

function envelope(yaml = POLICY): unknown {
  const r = signPolicy(yaml, operator);
  assert.ok(r.ok);
  return r.envelope;
}

function managersByRole(fleet: NodeFleet): string[] {
  return Object.entries(fleet.roles()).filter(([, r]) => isManagerRole(r)).map(([id]) => id).sort();
}

describe('createNode', () => {
  it('forms a fleet: the policy pushed into one node reaches all, and roles follow it everywhere', async () => {
    const fleet = new NodeFleet([operator.publicKey]);
    for (const [id, mem] of [['a', 8192], ['b', 4096], ['c', 2048], ['d', 1024], ['e', 1024]] as const) await fleet.add(id, mem);
    await fleet.run(2_000);
    assert.equal(fleet.get('c').node.policies.apply(envelope()).ok, true);
    await fleet.runUntil(() => managersByRole(fleet).join() === 'a,b,c' && Object.values(fleet.roles()).every((r) => r !== null), 60_000);
    const assignments = new Set(Object.values(fleet.assignments()));
    assert.deepEqual([...assignments], ['a,b,c']);
    assert.deepEqual(fleet.roles(), { a: 'manager+worker', b: 'manager+worker', c: 'manager+worker', d: 'worker', e: 'worker' });
    // a bootstrapped (first seat), then b and c were promoted one at a time.
    assert.deepEqual(fleet.get('a').driver.actions.filter((x) => x.startsWith('bootstrap')), ['bootstrap a: control plane [a]']);
    await fleet.stopAll();
  });

  it('heals: a crashed manager is declared down, removed, and the best worker promoted', async () => {
    const fleet = new NodeFleet([operator.publicKey]);
    for (const [id, mem] of [['a', 8192], ['b', 4096], ['c', 2048], ['d', 1024], ['e', 512]] as const) await fleet.add(id, mem);
    fleet.get('a').node.policies.apply(envelope());
    await fleet.runUntil(() => managersByRole(fleet).join() === 'a,b,c', 60_000);
    await fleet.crash('b');
    const took = await fleet.runUntil(() => managersByRole(fleet).join() === 'a,c,d', 60_000);
    assert.ok(took > 0);
    const removal = [...fleet.nodes.values()].flatMap((n) => n.driver.actions).filter((x) => x.startsWith('remove b'));
    assert.equal(removal.length, 1, 'exactly one node removed the dead manager');
    assert.deepEqual(new Set(Object.values(fleet.assignments())), new Set(['a,c,d']));
    await fleet.stopAll();
  });

  it('a refuted suspicion stays out of the document; a down verdict about a running node is refuted in it', async () => {
    const fleet = new NodeFleet([operator.publicKey]);
    for (const id of ['a', 'b', 'c']) await fleet.add(id);
    await fleet.run(2_000);
    const b = fleet.get('b').node;
    const recorded = b.state.doc.member('b')?.incarnation ?? -1;
    assert.equal(b.detector.incarnation, recorded);
    // a tells b it suspects b, as a piggybacked update does: b refutes it in the failure detector only.
    const suspect = encodeMessage({ type: 'ping', v: SWIM_WIRE_VERSION, inc: 0, updates: [{ node: 'b', status: 'suspect', incarnation: recorded, from: 'a' }] });
    const answered = fleet.get('a').mesh.request('b', swimProtocol('site-a'), suspect, { timeoutMs: 1_000 });
    await fleet.run(100);
    await answered;
    assert.equal(b.detector.stats().refutations, 1);
    assert.equal(b.detector.incarnation, recorded + 1);
    await fleet.run(2_000);
    for (const id of ['a', 'b', 'c']) {
      const doc = fleet.get(id).node.state.doc;
      assert.equal(doc.member('b')?.incarnation, recorded, `${id}: b's member record was not rewritten`);
      assert.equal(doc.verdicts()['b']?.status ?? 'alive', 'alive');
    }
    // A down verdict about b is written anyway (by a node that missed the refutation): b, running,
    // raises its record above it, and it is alive in every view again.
    fleet.get('c').node.state.doc.writeVerdict('b', { status: 'down', incarnation: recorded });
    await fleet.run(2_000);
    for (const id of ['a', 'b', 'c']) {
      const doc = fleet.get(id).node.state.doc;
      assert.ok((doc.member('b')?.incarnation ?? -1) > recorded, `${id}: b's record raised above the verdict`);
      assert.equal(doc.verdicts()['b']?.status, 'alive', `${id}: b's verdict`);
    }
    assert.ok(b.detector.incarnation >= recorded + 1);
    await fleet.stopAll();
  });

  it('a member whose refutation reached the document only is probed again, and declared down when it then fails', async () => {
    const fleet = new NodeFleet([operator.publicKey]);
    for (const id of ['a', 'b', 'c']) await fleet.add(id);
    await fleet.run(2_000);
    const a = fleet.get('a').node;
    const recorded = fleet.get('b').node.state.doc.member('b')?.incarnation ?? -1;
    // c tells a that b is down (as a piggybacked claim would); a writes the verdict, b refutes it
    // in the document. a's failure detector hears nothing from b itself before b really fails.
    const down = encodeMessage({ type: 'ping', v: SWIM_WIRE_VERSION, inc: 0, updates: [{ node: 'b', status: 'down', incarnation: recorded, from: 'c' }] });
    const answered = fleet.get('c').mesh.request('a', swimProtocol('site-a'), down, { timeoutMs: 1_000 });
    await fleet.run(200);
    await answered;
    assert.ok((a.state.doc.member('b')?.incarnation ?? -1) > recorded, "b's refutation reached a's document");
    assert.deepEqual(a.detector.status('b'), { node: 'b', status: 'alive', incarnation: a.state.doc.member('b')?.incarnation }, "a's detector took b's own record's word");
    await fleet.crash('b');
    // Before: a's detector kept b down at the refuted incarnation, so its verdict was refused
    // ("refuted already") and nobody ever wrote that b had failed.
    await fleet.runUntil(() => a.state.doc.verdicts()['b']?.status === 'down', 30_000);
    assert.ok((a.state.doc.verdicts()['b']?.incarnation ?? -1) > recorded);
    await fleet.stopAll();
  });

  it("a member's record does not bring it back in the failure detector when the document holds it down at that incarnation", async () => {
    const fleet = new NodeFleet([operator.publicKey]);
    for (const id of ['a', 'b', 'c', 'd', 'e']) await fleet.add(id);
    await fleet.run(3_000);
    const a = (): PaceNode => fleet.get('a').node;
    const c = (): PaceNode => fleet.get('c').node;
    // a is cut off (and holds b down at its first incarnation); meanwhile b crashes, restarts
    // (its record raised) and crashes again, and the others write it down at the raised one.
    fleet.hub.isolate('a', true);
    await fleet.runUntil(() => a().detector.status('b')?.status === 'down', 60_000);
    const storage = fleet.get('b').storage;
    await fleet.crash('b');
    await fleet.runUntil(() => c().state.doc.verdicts()['b']?.status === 'down', 60_000);
    await fleet.add('b', 4096, storage);
    fleet.hub.setPartitioned('a', 'b', true);
    await fleet.run(3_000);
    const raised = c().state.doc.member('b')?.incarnation ?? -1;
    assert.ok(raised > (a().detector.status('b')?.incarnation ?? Infinity));
    await fleet.crash('b');
    await fleet.runUntil(() => (c().state.doc.verdicts()['b']?.status === 'down' && (c().state.doc.verdicts()['b']?.incarnation ?? -1) >= raised), 60_000);
    await fleet.run(20_000);
    // a comes back: its document learns b's raised record and the verdict above it; b stays down.
    fleet.hub.isolate('a', false);
    for (let t = 0; t < 30_000; t += 100) {
      await fleet.run(100);
      assert.equal(a().detector.status('b')?.status, 'down', `a's detector brought b back at ${t} ms after the heal`);
    }
    assert.equal(a().state.doc.member('b')?.incarnation, raised);
    assert.equal(a().state.doc.verdicts()['b']?.status, 'down');
    await fleet.stopAll();
  });

  it('a minority partition reports itself and makes no control-plane change; healing converges to one assignment', async () => {
    const fleet = new NodeFleet([operator.publicKey]);
    for (const [id, mem] of [['a', 8192], ['b', 4096], ['c', 2048], ['d', 1024], ['e', 512]] as const) await fleet.add(id, mem);
    fleet.get('a').node.policies.apply(envelope());
    await fleet.runUntil(() => managersByRole(fleet).join() === 'a,b,c' && Object.values(fleet.roles()).every((r) => r !== null), 60_000);
    await fleet.runUntil(() => new Set([...fleet.nodes.values()].map((n) => n.node.state.doc.heads().join())).size === 1, 60_000);
    const actionsBefore = new Map([...fleet.nodes].map(([id, n]) => [id, n.driver.actions.length]));
    // c (a manager) and e are cut off from a, b, d: the control plane a,b,c keeps its majority on the big side.
    const small = ['c', 'e'];
    const big = ['a', 'b', 'd'];
    for (const x of small) for (const y of big) fleet.hub.setPartitioned(x, y, true);
    await fleet.runUntil(() => fleet.get('c').node.roles.snapshot().minority && fleet.get('e').node.roles.snapshot().minority, 60_000);
    // The majority side removes c and promotes d; c, cut off, keeps believing what it last knew.
    const bigSide = () => big.map((id) => fleet.get(id).node.roles.snapshot());
    await fleet.runUntil(() => bigSide().every((s) => s.view?.controlPlane.join() === 'a,b,d' && s.assignment?.managers.join() === 'a,b,d'), 60_000);
    await fleet.run(10_000);
    for (const id of small) {
      const controlPlaneActions = fleet.get(id).driver.actions.slice(actionsBefore.get(id)).filter((x) => /^(bootstrap|promote|demote|remove)/.test(x));
      assert.deepEqual(controlPlaneActions, [], `${id} in the minority changed the control plane`);
      assert.equal(fleet.get(id).node.roles.snapshot().minority, true);
    }
    for (const x of small) for (const y of big) fleet.hub.setPartitioned(x, y, false);
    await fleet.runUntil(() => new Set(Object.values(fleet.assignments())).size === 1 && !fleet.get('c').node.roles.snapshot().minority, 60_000);
    await fleet.runUntil(() => fleet.get('c').node.state.replicator.convergence().converged && new Set(Object.values(fleet.assignments())).size === 1, 60_000);
    assert.deepEqual(new Set(Object.values(fleet.assignments())), new Set(['a,b,d']));
    await fleet.stopAll();
  });
});
