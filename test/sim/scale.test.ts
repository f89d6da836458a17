import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { bytes, startFleet } from './support/fleet.js';

describe('Scale', () => {
  it('1,000 nodes connect and each broadcasts once; every node receives 999 messages', async () => {
    const n = 1_000;
    const wallStart = performance.now();
    const f = await startFleet(n, { seed: 99, connect: false, record: false, network: { link: { latencyMs: 1, jitterMs: 1 } } });
    const counts = new Map<string, number>();
    for (const mesh of f.meshes) mesh.on('message', () => counts.set(mesh.self, (counts.get(mesh.self) ?? 0) + 1));
    await f.world.scheduler.runUntilIdle();
    const connected = performance.now();
    assert.equal(f.meshes[0]?.peers().length, n - 1);
    const eventsBefore = f.world.scheduler.eventsRun;
    // Each node publishes at a random instant within the first virtual second.
    const random = f.world.random.fork('workload');
    for (const mesh of f.meshes) f.world.scheduler.clock.setTimer(random.int(1_000), () => void mesh.publish('t', bytes(`from ${mesh.self}`)));
    await f.world.scheduler.runUntilIdle();
    const wallEnd = performance.now();
    for (const id of f.ids) assert.equal(counts.get(id), n - 1, `${id} got every broadcast`);
    const totals = f.world.network.totals();
    assert.equal(totals.messagesIn, n * (n - 1));
    console.log(
      `scale: ${n} nodes — connect ${(connected - wallStart).toFixed(0)} ms wall; ` +
        `broadcast ${(wallEnd - connected).toFixed(0)} ms wall for ${f.world.scheduler.eventsRun - eventsBefore} events ` +
        `(${(((wallEnd - connected) * 1000) / (f.world.scheduler.eventsRun - eventsBefore)).toFixed(2)} µs/event); ` +
        `virtual time ${f.world.scheduler.now().toFixed(1)} ms; trace ${f.world.trace.length} events; ` +
        `wire bytes out per node ${(totals.wireBytesOut / n).toFixed(0)}`,
    );
  });
});
