import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Seed } from '../../src/seams/seeded-random.js';
import { pick } from '../../src/seams/random.js';
import { bytes, nodeId, text } from './support/fleet.js';
import { createSimWorld } from '../../simulations/harness/world.js';

/**
 * A randomized workload: 40 nodes with lossy, jittery, duplicating links; each node, on its
 * own seeded timer, publishes or sends a request to a random peer whose handler waits a random
 * virtual time; mid-run a partition comes and heals, and one node crashes and restarts.
 * Returns the trace hash and a digest of what each node observed.
 */
async function runWorkload(seed: Seed): Promise<{ hash: string; events: number; observed: string }> {
  const world = createSimWorld({ seed, network: { link: { latencyMs: 2, jitterMs: 20, loss: 0.05, duplicate: 0.05 }, failureDetectionMs: 300 } });
  const { network, scheduler } = world;
  const ids = Array.from({ length: 40 }, (_, i) => nodeId(i));
  const observed: string[] = [];
  let crashed = false;
  const boot = (id: string): void => {
    const clock = world.nodeClock();
    const random = world.random.fork(`node:${id}`);
    const mesh = network.createMesh(id, { clock, requestTimeoutMs: 500 });
    mesh.subscribe('t');
    mesh.on('message', (e) => observed.push(`${id}<${e.from}:${text(e.data)}@${scheduler.now()}`));
    mesh.on('peer:down', (e) => observed.push(`${id} down ${e.peer}@${scheduler.now()}`));
    mesh.handle('/work', async (req) => {
      await clock.sleep(random.int(50));
      return bytes(`done:${text(req)}`);
    });
    let n = 0;
    const act = (): void => {
      const peer = pick(random, mesh.peers());
      const label = `${id}#${n++}`;
      if (peer === undefined || random.float() < 0.5) {
        mesh.publish('t', bytes(label)).catch(() => undefined);
      } else {
        mesh.request(peer, '/work', bytes(label)).then(
          (r) => observed.push(`${id} got ${text(r)}@${scheduler.now()}`),
          (e: Error) => observed.push(`${id} failed ${label}: ${e.message}@${scheduler.now()}`),
        );
      }
      if (n < 15) clock.setTimer(20 + random.int(200), act);
    };
    clock.setTimer(random.int(100), act);
    void mesh.start();
    if (id === 'n0007' && !crashed) crashAt(clock);
  };
  const crashAt = (clock: ReturnType<typeof world.nodeClock>): void => {
    crashed = true;
    scheduler.clock.setTimer(900, () => {
      clock.halt();
      network.crash('n0007');
      scheduler.clock.setTimer(400, () => boot('n0007'));
    });
  };
  for (const id of ids) boot(id);
  scheduler.clock.setTimer(600, () => network.partition([ids.slice(0, 25), ids.slice(25)]));
  scheduler.clock.setTimer(1_500, () => network.heal());
  await scheduler.runUntilIdle();
  const observedDigest = observed.join('\n');
  return { hash: world.trace.hash(), events: world.trace.length, observed: observedDigest };
}

describe('Determinism', () => {
  it('the same seed gives the same trace hash and the same observations', async () => {
    const first = await runWorkload(1234);
    const second = await runWorkload(1234);
    assert.ok(first.events > 10_000, `a substantial workload: ${first.events} trace events`);
    assert.equal(second.hash, first.hash);
    assert.equal(second.events, first.events);
    assert.equal(second.observed, first.observed);
    // The workload exercised what it claims to.
    assert.match(first.observed, /got done:/);
    assert.match(first.observed, /failed .*timed out/);
    assert.match(first.observed, /down n0007/);
  });

  it('different seeds give different trace hashes', async () => {
    const hashes = new Set<string>();
    for (const seed of [1, 2, 3]) hashes.add((await runWorkload(seed)).hash);
    assert.equal(hashes.size, 3);
  });
});
