/**
 * Replication between separate processes over TCP, inside private network namespaces this test
 * creates and removes (test/support/netns.ts: only `lo`; nothing touches the machine's real
 * interfaces). Each process is test/fixtures/state-node.ts: the daemon's composition
 * (`startLibp2pNode`). Skipped with the reason when namespaces are unavailable.
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { MeshProcess } from '../support/mesh-process.js';
import { fixturePeerId } from '../support/fixture-identity.js';
import { NetnsPool, netnsUnavailable } from '../support/netns.js';
import type { Netns } from '../support/netns.js';
import { lastReported, reportedConverged, startStateNode } from '../support/state-process.js';
import type { StateNodeConfig } from '../support/state-process.js';
import { waitUntil } from '../support/wait.js';

const skip = netnsUnavailable();
const pool = new NetnsPool();
after(() => pool.cleanup());
const netns = (): Netns => pool.create();

const PORT = 7700;
const addr = (i: number): string => `/ip4/127.0.0.1/tcp/${PORT + i}`;

function config(i: number, seed: number, extra: Partial<StateNodeConfig> = {}): StateNodeConfig {
  return { seed, name: `proc-${seed}`, cluster: 'site-p', listen: [addr(i)], mdns: false, bootstrap: [], topics: [], ...extra };
}

/** Waits until the three converge, then checks the active convergence report on each. */
async function expectConverged(nodes: MeshProcess[], what: string): Promise<void> {
  const ids = nodes.map((n) => n.peer);
  await waitUntil(() => reportedConverged(nodes, ids), `${what}: identical heads and ${ids.length} members\n${nodes.map((n) => JSON.stringify(lastReported(n))).join('\n')}`, 60_000);
  await waitUntil(async () => {
    const replies = await Promise.all(nodes.map((n) => n.command({ cmd: 'converge' })));
    return replies.every((r) => (r['report'] as { converged: boolean; peers: unknown[] }).converged && (r['report'] as { peers: unknown[] }).peers.length === nodes.length - 1);
  }, `${what}: every node's active convergence check passes with both peers`, 60_000);
}

void describe('replication between processes (TCP in a private netns)', { skip }, () => {
  void it('3 processes on 127.0.0.1 with a bootstrap list converge, and later writes replicate', async () => {
    const ns = netns();
    const seeds = [501, 502, 503];
    const list = await Promise.all(seeds.map(async (seed, i) => `${addr(i)}/p2p/${await fixturePeerId(seed)}`));
    const nodes = await Promise.all(seeds.map((seed, i) => startStateNode(ns, config(i, seed, { bootstrap: list }))));
    await expectConverged(nodes, 'bootstrap');
    const [first] = nodes;
    assert.ok(first !== undefined);
    const reply = await first.command({ cmd: 'relabel', key: 'zone', value: 'a' });
    assert.equal(reply['ok'], true);
    const heads = (reply['heads'] as string[]).join();
    await waitUntil(() => nodes.every((n) => lastReported(n).heads.join() === heads), 'the new write reaches both other processes', 60_000);
    const stats = (await nodes[1]?.command({ cmd: 'state' }))?.['stats'] as { gossipDropped: Record<string, number>; syncDropped: Record<string, number> };
    assert.ok(Object.values(stats.gossipDropped).every((n) => n === 0) && Object.values(stats.syncDropped).every((n) => n === 0), `nothing genuine was dropped: ${JSON.stringify(stats)}`);
    await ns.cleanup();
  });

  void it('3 processes with mDNS on and no bootstrap list converge', async () => {
    const ns = netns();
    const nodes = await Promise.all([511, 512, 513].map((seed, i) => startStateNode(ns, config(i, seed, { mdns: true }))));
    await expectConverged(nodes, 'mDNS');
    await ns.cleanup();
  });
});
