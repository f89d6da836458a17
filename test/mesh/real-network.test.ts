/**
 * Real-network tests: separate processes over TCP, inside private network namespaces this test
 * creates and removes. Skipped (with the reason) when namespaces are unavailable.
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { encodeFrame, FrameDecoder } from '../../src/mesh/framing.js';
import { decodeResponse } from '../../src/mesh/request-wire.js';
import { generateSwarmKey } from '../../src/mesh/swarm-key.js';
import { fixturePeerId } from '../support/fixture-identity.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import { MeshProcess } from '../support/mesh-process.js';
import type { FixtureNodeConfig } from '../support/mesh-process.js';
import { NetnsPool, netnsUnavailable } from '../support/netns.js';
import type { Netns } from '../support/netns.js';
import { waitUntil } from '../support/wait.js';

const skip = netnsUnavailable();
const pool = new NetnsPool();
after(() => pool.cleanup());
const netns = (): Netns => pool.create();

const PORT = 7600;
const addr = (i: number): string => `/ip4/127.0.0.1/tcp/${PORT + i}`;

async function bootstrapList(seeds: number[]): Promise<string[]> {
  return Promise.all(seeds.map(async (seed, i) => `${addr(i)}/p2p/${await fixturePeerId(seed)}`));
}

function base(i: number, seed: number, extra: Partial<FixtureNodeConfig> = {}): FixtureNodeConfig {
  return { seed, cluster: 'real-net', listen: [addr(i)], mdns: false, bootstrap: [], topics: ['t'], ...extra };
}

/** Publishes from `from` until every node in `to` has heard `text`. */
async function broadcastUntilHeard(from: MeshProcess, to: MeshProcess[], text: string): Promise<void> {
  await waitUntil(async () => {
    if (to.every((n) => n.messages('t').some((m) => m['text'] === text && m['from'] === from.peer))) return true;
    await from.command({ cmd: 'publish', topic: 't', text });
    await new Promise((r) => setTimeout(r, 200));
    return false;
  }, `${text} reaches ${to.length} nodes`);
}

void describe('libp2p mesh on a real network (processes in a private netns)', { skip }, () => {
  void it('3 processes with a bootstrap list see each other and get each other\'s broadcasts', async () => {
    const ns = netns();
    const seeds = [101, 102, 103];
    const list = await bootstrapList(seeds);
    const nodes = await Promise.all(seeds.map((seed, i) => MeshProcess.start(ns, base(i, seed, { bootstrap: list }))));
    for (const n of nodes) {
      const others = nodes.filter((o) => o !== n).map((o) => o.peer);
      await waitUntil(() => others.every((p) => n.peersUp().has(p)), `node ${n.config.seed} sees the others`);
    }
    for (const n of nodes) await broadcastUntilHeard(n, nodes.filter((o) => o !== n), `from ${n.config.seed}`);
    for (const n of nodes) assert.equal(n.messages('t').filter((m) => m['from'] === n.peer).length, 0, 'no echo of own messages');
    await ns.cleanup();
  });

  void it('3 processes discover each other with mDNS alone (no bootstrap)', async () => {
    const ns = netns();
    const nodes = await Promise.all([201, 202, 203].map((seed, i) => MeshProcess.start(ns, base(i, seed, { mdns: true }))));
    for (const n of nodes) {
      const others = nodes.filter((o) => o !== n).map((o) => o.peer);
      await waitUntil(() => others.every((p) => n.peersUp().has(p)), `node ${n.config.seed} discovers the others by mDNS`);
    }
    await broadcastUntilHeard(nodes[0]!, nodes.slice(1), 'via mdns');
    await ns.cleanup();
  });

  void it('a different cluster name on the same link is not discovered by mDNS', async () => {
    const ns = netns();
    const [a, b] = await Promise.all([
      MeshProcess.start(ns, base(0, 211, { mdns: true })),
      MeshProcess.start(ns, base(1, 212, { mdns: true })),
    ]);
    const stranger = await MeshProcess.start(ns, base(2, 213, { mdns: true, cluster: 'another-cluster' }));
    await waitUntil(() => a.peersUp().has(b.peer) && b.peersUp().has(a.peer), 'same-cluster nodes find each other');
    // Both have answered several query rounds (2 s interval) by now; give the stranger two more.
    const queriesSeen = async (): Promise<void> => new Promise((r) => setTimeout(r, 5_000));
    await queriesSeen();
    assert.ok(!a.peersUp().has(stranger.peer) && !b.peersUp().has(stranger.peer), 'the other cluster stays apart');
    assert.equal(stranger.peersUp().size, 0);
    await ns.cleanup();
  });

  void it('pre-shared key: same key connects; wrong key or no key cannot connect or receive', async () => {
    const ns = netns();
    const key = generateSwarmKey(new SeededRandom(301));
    const wrong = generateSwarmKey(new SeededRandom(302));
    const seeds = [311, 312, 313, 314];
    const list = await bootstrapList(seeds);
    const [a, b, c, d] = await Promise.all([
      MeshProcess.start(ns, base(0, 311, { bootstrap: list, swarmKey: key })),
      MeshProcess.start(ns, base(1, 312, { bootstrap: list, swarmKey: key })),
      MeshProcess.start(ns, base(2, 313, { bootstrap: list, swarmKey: wrong })),
      MeshProcess.start(ns, base(3, 314, { bootstrap: list })),
    ]);
    assert.ok(a && b && c && d);
    await waitUntil(() => a.peersUp().has(b.peer) && b.peersUp().has(a.peer), 'keyed nodes connect');
    await broadcastUntilHeard(a, [b], 'keyed secret');
    for (const outsider of [c, d]) {
      const reply = await outsider.command({ cmd: 'request', peer: a.peer, protocol: '/pace-test/echo/1', text: 'let me in' });
      assert.equal(reply['ok'], false, 'an outsider request fails');
      assert.equal(reply['name'], 'MeshRequestError');
    }
    assert.deepEqual([...a.peersUp()], [b.peer]);
    assert.equal(c.peersUp().size, 0);
    assert.equal(d.peersUp().size, 0);
    assert.equal(c.messages().length + d.messages().length, 0, 'outsiders received nothing');
    await ns.cleanup();
  });

  void it('garbage and oversized traffic is dropped and counted; the node keeps working', async () => {
    const ns = netns();
    const seeds = [401, 402];
    const list = await bootstrapList(seeds);
    const [victim, attacker] = await Promise.all([
      MeshProcess.start(ns, base(0, 401, { bootstrap: list, maxMessageBytes: 1024, maxRequestBytes: 1024 })),
      MeshProcess.start(ns, base(1, 402, { bootstrap: list, maxMessageBytes: 64 * 1024, maxRequestBytes: 64 * 1024 })),
    ]);
    assert.ok(victim && attacker);
    await waitUntil(() => victim.peersUp().has(attacker.peer), 'connected');
    const target = `${addr(0)}/p2p/${victim.peer}`;
    const statsOf = async (): Promise<Record<string, Record<string, number>>> => (await victim.command({ cmd: 'stats' }))['stats'] as Record<string, Record<string, number>>;

    // Garbage on the request protocol: an overlong length prefix.
    const garbage = await attacker.command({ cmd: 'raw', addr: target, protocol: '/pace-test/echo/1', hex: 'ffffffffffffff01', close: true });
    assert.equal(garbage['ok'], true);
    assert.equal(garbage['hex'], '', 'no answer to garbage');
    // An oversized request (the attacker's own cap is larger, so it sends it).
    const big = await attacker.command({ cmd: 'request', peer: victim.peer, protocol: '/pace-test/echo/1', size: 4096 });
    assert.equal(big['ok'], false);
    assert.match(String(big['error']), /rejected by peer/);
    // A raw oversized prefix gets a 'rejected' envelope.
    const rawBig = await attacker.command({ cmd: 'raw', addr: target, protocol: '/pace-test/echo/1', hex: Buffer.from(encodeFrame(new Uint8Array(5000)).subarray(0, 2)).toString('hex'), close: false });
    const [frame] = new FrameDecoder(1 << 20).push(Uint8Array.from(Buffer.from(String(rawBig['hex']), 'hex')));
    assert.equal(frame === undefined ? undefined : decodeResponse(frame)?.type, 'rejected');
    // An oversized gossip message.
    await waitUntil(async () => {
      if ((await statsOf())['dropped']?.['message-too-large'] ?? 0) return true;
      await attacker.command({ cmd: 'publish', topic: 't', size: 4096 });
      return false;
    }, 'the oversized gossip message is dropped and counted');

    const stats = await statsOf();
    assert.equal(stats['dropped']?.['frame-malformed'], 1);
    assert.equal(stats['dropped']?.['frame-too-large'], 2);
    assert.ok(victim.messages('t').every((m) => (m['size'] as number) <= 1024), 'nothing oversized delivered');
    // Still working both ways.
    const echo = await attacker.command({ cmd: 'request', peer: victim.peer, protocol: '/pace-test/echo/1', text: 'still alive?' });
    assert.equal(echo['text'], 'still alive?');
    await broadcastUntilHeard(attacker, [victim], 'small and fine');
    await ns.cleanup();
  });
});
