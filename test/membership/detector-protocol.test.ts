import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { DEFAULT_MEMBERSHIP } from '../../src/membership/profiles.js';
import { encodeMessage, SWIM_WIRE_VERSION, swimProtocol } from '../../src/membership/wire.js';
import { CLUSTER, Fleet } from './support/fleet.js';

const encoder = new TextEncoder();

describe('FailureDetector: leave, bad input, cost, determinism', () => {
  it('disseminates a graceful leave to every node without any suspicion', async () => {
    const fleet = new Fleet({ n: 8, seed: 21 });
    await fleet.run(3 * fleet.config.probeIntervalMs);
    const leaver = fleet.get('node-006');
    await Promise.all([leaver.leave(), fleet.run(fleet.config.probeIntervalMs)]);
    assert.equal(leaver.status('node-006')?.status, 'left');
    const everywhereAt = await fleet.runUntil(() => fleet.viewsOf('node-006').every((s) => s === 'left'), 20 * fleet.config.probeIntervalMs);
    assert.ok(everywhereAt !== undefined, fleet.viewsOf('node-006').join(','));
    fleet.crash('node-006');
    await fleet.run(50 * fleet.config.probeIntervalMs);
    assert.deepEqual(fleet.events.filter((e) => e.status === 'suspect' || e.status === 'down'), []);
    assert.ok(fleet.viewsOf('node-006').every((s) => s === 'left'));
    // A second leave() is the same announcement.
    assert.equal(leaver.leave(), leaver.leave());
    fleet.stopAll();
  });

  it('takes a node that left and restarted (same id, fresh state) back as alive at a higher incarnation', async () => {
    const fleet = new Fleet({ n: 5, seed: 31 });
    await fleet.run(3 * fleet.config.probeIntervalMs);
    await Promise.all([fleet.get('node-001').leave(), fleet.run(fleet.config.probeIntervalMs)]);
    await fleet.runUntil(() => fleet.viewsOf('node-001').every((s) => s === 'left'), 20 * fleet.config.probeIntervalMs);
    fleet.crash('node-001');
    await fleet.run(10 * fleet.config.probeIntervalMs);
    fleet.network.restore('node-001');
    const reborn = fleet.boot('node-001', 1);
    const back = await fleet.runUntil(() => fleet.viewsOf('node-001').every((s) => s === 'alive'), 20 * fleet.config.probeIntervalMs);
    assert.ok(back !== undefined, fleet.viewsOf('node-001').join(','));
    assert.equal(reborn.incarnation, 1);
    fleet.stopAll();
  });

  it('sends a refutation to the accuser at once, not only piggybacked on later probes', async () => {
    const fleet = new Fleet({ n: 3, seed: 4, config: DEFAULT_MEMBERSHIP });
    await fleet.run(3 * fleet.config.probeIntervalMs);
    const [accuser, accused, relay] = ['node-000', 'node-001', 'node-002'];
    const before = fleet.get(accused).incarnation;
    // node-000's suspicion of node-001 reaches node-001 through node-002, as gossip would.
    const claim = encodeMessage({ type: 'ping', v: SWIM_WIRE_VERSION, inc: 0, updates: [{ node: accused, status: 'suspect', incarnation: before, from: accuser }] });
    const answered = fleet.network.mesh(relay).request(accused, swimProtocol(CLUSTER), claim, { timeoutMs: 1_000 });
    // Two hops of 5 ms: the relayed claim, then the accused's ping to the accuser. A probe
    // interval is 1 s, so no ordinary probe carries it this soon.
    await fleet.run(2 * fleet.network.latencyMs + 1);
    await answered;
    assert.equal(fleet.get(accused).incarnation, before + 1);
    assert.deepEqual(fleet.get(accuser).status(accused), { node: accused, status: 'alive', incarnation: before + 1 });
    fleet.stopAll();
  });

  it('with no helper to ask, retries the direct ping: two nodes ride out a lost message, and a crashed peer is still declared down', async () => {
    const fleet = new Fleet({ n: 2, seed: 9, config: DEFAULT_MEMBERSHIP });
    await fleet.run(3 * fleet.config.probeIntervalMs);
    const [a, b] = ['node-000', 'node-001'];
    const indirect = (): number => fleet.ids.reduce((sum, id) => sum + fleet.get(id).stats().indirectProbes, 0);
    const before = indirect();
    // Each loses the next message it sends: a's ping or its ack to b's ping, and b's likewise.
    // Without a third node there is nobody to ask for an indirect probe, so before retries
    // each lost message was a suspicion.
    fleet.network.loseNext(a, b);
    fleet.network.loseNext(b, a);
    await fleet.run(5 * fleet.config.probeIntervalMs);
    assert.ok(indirect() > before, 'a probe missed its direct ack');
    assert.deepEqual(fleet.events.filter((e) => e.status === 'suspect' || e.status === 'down'), []);
    // Retries do not hide a real failure.
    fleet.crash(b);
    const downAt = await fleet.runUntil(() => fleet.get(a).status(b)?.status === 'down', 60 * fleet.config.probeIntervalMs);
    assert.ok(downAt !== undefined, JSON.stringify(fleet.get(a).status(b)));
    fleet.stopAll();
  });

  it('spreads the retries over the indirect phase, stops sending them once the probe has an ack, and leaves no timer behind when stopped', async () => {
    const fleet = new Fleet({ n: 2, seed: 9, config: DEFAULT_MEMBERSHIP });
    await fleet.run(3 * fleet.config.probeIntervalMs);
    const [a, b] = ['node-000', 'node-001'];
    const sent = (id: string): number => fleet.get(id).stats().messagesSent;
    const retries = (): number => fleet.get(a).stats().directRetries;
    // a's next ping and the first retry, sent as the indirect phase starts, are lost: the second,
    // a quarter into the phase, reaches b.
    const indirectBefore = fleet.get(a).stats().indirectProbes;
    const retriesBefore = retries();
    fleet.network.loseNext(a, b, 2, 'request');
    await fleet.runUntil(() => fleet.get(a).stats().indirectProbes > indirectBefore, 5 * fleet.config.probeIntervalMs);
    await fleet.run(fleet.config.probeIntervalMs - fleet.config.probeTimeoutMs);
    assert.deepEqual(fleet.events.filter((e) => e.status === 'suspect' || e.status === 'down'), []);
    // Two retries, the second answered, and no third: the probe had its ack.
    assert.equal(retries() - retriesBefore, 2);

    // Stopped in the middle of a phase: nothing more is sent, and no timer is left.
    const indirectAgain = fleet.get(a).stats().indirectProbes;
    fleet.network.loseNext(a, b, 1, 'request');
    await fleet.runUntil(() => fleet.get(a).stats().indirectProbes > indirectAgain, 5 * fleet.config.probeIntervalMs);
    fleet.stopAll();
    const after = sent(a);
    await fleet.run(4 * fleet.network.latencyMs);
    assert.equal(sent(a), after);
    assert.equal(fleet.clock.pendingTimers(), 0);
  });

  it('drops garbage requests with a counted reason, answers them with a refusal, and keeps working', async () => {
    const fleet = new Fleet({ n: 3, seed: 2 });
    const victim = fleet.get('node-001');
    const attacker = fleet.network.mesh('mallory');
    const protocol = swimProtocol(CLUSTER);
    const cases: [string, Uint8Array][] = [
      ['not-json', encoder.encode('{nope')],
      ['not-json', new Uint8Array([0xff, 0xfe, 0x00])],
      ['bad-version', encoder.encode(JSON.stringify({ v: 99, type: 'ping', inc: 0, updates: [] }))],
      ['unknown-type', encoder.encode(JSON.stringify({ v: 1, type: 'gossip', inc: 0, updates: [] }))],
      ['malformed', encoder.encode(JSON.stringify({ v: 1, type: 'ping', inc: -1, updates: [] }))],
      ['malformed', encoder.encode(JSON.stringify({ v: 1, type: 'ping', inc: 0, updates: [{ node: 'node-000', status: 'zombie', incarnation: 1, from: 'x' }] }))],
      ['malformed', encoder.encode(JSON.stringify([1, 2, 3]))],
      ['unexpected-type', encoder.encode(JSON.stringify({ v: 1, type: 'ack', inc: 0, updates: [] }))],
      ['too-large', new Uint8Array(DEFAULT_MEMBERSHIP.maxMessageBytes + 1)],
    ];
    const outcomes: string[] = [];
    for (const [, bytes] of cases) {
      attacker.request('node-001', protocol, bytes, { timeoutMs: 1_000 }).then(
        () => outcomes.push('answered'),
        (err: unknown) => outcomes.push(err instanceof Error ? err.message : 'rejected'),
      );
    }
    await fleet.run(100);
    assert.equal(outcomes.length, cases.length);
    assert.ok(outcomes.every((o) => o.includes('refused: SwimMessageRejectedError')), outcomes.join('\n'));
    const expected: Record<string, number> = {};
    for (const [reason] of cases) expected[reason] = (expected[reason] ?? 0) + 1;
    const drops = victim.stats().drops;
    for (const [reason, count] of Object.entries(expected)) assert.equal(drops[reason as keyof typeof drops], count, reason);
    // A well-formed ping from a non-member is answered, and its updates about members are weighed normally.
    const ack = await Promise.all([
      attacker.request('node-001', protocol, encoder.encode(JSON.stringify({ v: 1, type: 'ping', inc: 0, updates: [] })), { timeoutMs: 1_000 }),
      fleet.run(100),
    ]);
    assert.equal(JSON.parse(new TextDecoder().decode(ack[0])).type, 'ack');
    await fleet.run(50 * fleet.config.probeIntervalMs);
    assert.deepEqual(fleet.events, []);
    fleet.stopAll();
  });

  it('a direct probe\'s answer reports the target\'s state digest; without one nothing is sent', async () => {
    const digests = new Map([['node-000', 'aa'], ['node-001', 'bb'], ['node-002', 'aa']]);
    const fleet = new Fleet({ n: 3, seed: 5, stateDigest: (id) => digests.get(id)! });
    await fleet.run(10 * fleet.config.probeIntervalMs);
    assert.ok(fleet.states.length > 0);
    for (const s of fleet.states) assert.equal(s.digest, digests.get(s.node), JSON.stringify(s));
    // Every node probed every other within ten intervals and learnt its digest.
    for (const observer of fleet.ids) {
      assert.deepEqual([...new Set(fleet.states.filter((s) => s.observer === observer).map((s) => s.node))].sort(), fleet.ids.filter((id) => id !== observer));
    }
    digests.set('node-001', 'cc');
    const before = fleet.states.length;
    await fleet.run(5 * fleet.config.probeIntervalMs);
    assert.ok(fleet.states.slice(before).some((s) => s.node === 'node-001' && s.digest === 'cc'));
    fleet.stopAll();
    const plain = new Fleet({ n: 3, seed: 5 });
    await plain.run(10 * plain.config.probeIntervalMs);
    assert.deepEqual(plain.states, []);
    plain.stopAll();
  });

  it('keeps per-node messages and bytes per probe interval constant as N grows (8, 32, 128)', async () => {
    const intervals = 30;
    const rates: { n: number; msgs: number; bytes: number }[] = [];
    for (const n of [8, 32, 128]) {
      const fleet = new Fleet({ n, seed: 4 });
      await fleet.run(2 * fleet.config.probeIntervalMs);
      const before = fleet.ids.map((id) => fleet.get(id).stats());
      await fleet.run(intervals * fleet.config.probeIntervalMs);
      let msgs = 0;
      let bytes = 0;
      fleet.ids.forEach((id, i) => {
        const s = fleet.get(id).stats();
        const b = before[i];
        assert.ok(b !== undefined);
        msgs += s.messagesSent - b.messagesSent;
        bytes += s.bytesSent - b.bytesSent;
      });
      rates.push({ n, msgs: msgs / n / intervals, bytes: bytes / n / intervals });
      assert.deepEqual(fleet.events, [], `no false suspicion at N=${n}`);
      fleet.stopAll();
    }
    console.log(`# per node per probe interval: ${rates.map((r) => `N=${r.n}: ${r.msgs.toFixed(2)} msgs, ${r.bytes.toFixed(0)} B`).join('; ')}`);
    const base = rates[0];
    assert.ok(base !== undefined);
    for (const r of rates) {
      // One ping out and about one ack back per interval: ~2 messages, whatever N is.
      assert.ok(r.msgs <= 2.5, `N=${r.n}: ${r.msgs} messages per node per interval`);
      assert.ok(r.msgs <= base.msgs * 1.25, `N=${r.n}: message rate grew from ${base.msgs} to ${r.msgs}`);
      assert.ok(r.bytes <= base.bytes * 1.25, `N=${r.n}: byte rate grew from ${base.bytes} to ${r.bytes}`);
    }
  });

  it('produces the same event sequence for the same seed (and a different one for another seed)', async () => {
    const trace = async (seed: number): Promise<string> => {
      const fleet = new Fleet({ n: 10, seed });
      await fleet.run(4 * fleet.config.probeIntervalMs);
      fleet.crash('node-007');
      fleet.network.cut('node-001', 'node-002');
      await fleet.run(30 * fleet.config.probeIntervalMs);
      fleet.network.restore('node-007');
      fleet.boot('node-007', 1);
      await fleet.run(30 * fleet.config.probeIntervalMs);
      const stats = fleet.ids.map((id) => fleet.get(id).stats());
      fleet.stopAll();
      assert.ok(fleet.events.length > 0);
      return createHash('sha256').update(JSON.stringify({ events: fleet.events, stats })).digest('hex');
    };
    const a = await trace(1234);
    const b = await trace(1234);
    const c = await trace(4321);
    assert.equal(a, b);
    assert.notEqual(a, c);
  });
});
