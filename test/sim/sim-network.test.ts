import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeshRequestError } from '../../src/mesh/mesh.js';
import { bytes, capture, received, rejection, startFleet, text } from './support/fleet.js';

describe('SimNetwork: delivery and latency', () => {
  it('connects every pair after the connect delay and lists peers sorted, never itself', async () => {
    const f = await startFleet(4, { connect: false, network: { connectDelayMs: 7 } });
    await f.world.scheduler.runUntil(6);
    assert.deepEqual(f.meshes[0]?.peers(), []);
    await f.world.scheduler.runUntil(7);
    assert.deepEqual(f.meshes[0]?.peers(), ['n0001', 'n0002', 'n0003']);
    assert.deepEqual(f.peerLog.get('n0002'), ['up:n0000@7', 'up:n0001@7', 'up:n0003@7']);
  });

  it('delivers a broadcast after exactly the link latency when there is no jitter', async () => {
    const f = await startFleet(3, { network: { link: { latencyMs: 40, jitterMs: 0 } } });
    const t0 = f.world.scheduler.now();
    const arrivals: number[] = [];
    f.meshes[1]?.on('message', () => arrivals.push(f.world.scheduler.now() - t0));
    f.world.network.links.set('n0000', 'n0002', { latencyMs: 250 });
    await f.meshes[0]?.publish('t', bytes('hi'));
    await f.world.scheduler.runUntil(t0 + 39);
    assert.deepEqual(received(f, 'n0001'), []);
    await f.world.scheduler.runUntil(t0 + 40);
    assert.deepEqual(received(f, 'n0001'), ['hi']);
    assert.deepEqual(arrivals, [40]);
    await f.world.scheduler.runUntil(t0 + 249);
    assert.deepEqual(received(f, 'n0002'), []);
    await f.world.scheduler.runUntil(t0 + 250);
    assert.deepEqual(received(f, 'n0002'), ['hi']);
    assert.deepEqual(received(f, 'n0000'), [], 'not back to the publisher');
  });

  it('keeps every delay within [latency, latency + jitter) and reorders through jitter', async () => {
    const f = await startFleet(2, { seed: 7, network: { link: { latencyMs: 10, jitterMs: 30 } } });
    const sentAt = new Map<string, number>();
    const delays: number[] = [];
    f.meshes[1]?.on('message', (e) => delays.push(f.world.scheduler.now() - (sentAt.get(text(e.data)) ?? Number.NaN)));
    for (let i = 0; i < 200; i++) {
      sentAt.set(String(i), f.world.scheduler.now());
      await f.meshes[0]?.publish('t', bytes(String(i)));
      await f.world.scheduler.runUntil(f.world.scheduler.now() + 1);
    }
    await f.world.scheduler.runUntilIdle();
    assert.equal(delays.length, 200);
    assert.ok(delays.every((d) => d >= 10 && d < 40), `delays in range: ${Math.min(...delays)}..${Math.max(...delays)}`);
    const order = received(f, 'n0001').map(Number);
    assert.notDeepEqual(order, [...order].sort((a, b) => a - b), 'jitter reorders messages');
  });

  it('loses close to the configured fraction of messages without relays (fixed seed)', async () => {
    const f = await startFleet(11, { seed: 42, network: { link: { loss: 0.1 }, relayPaths: 0 } });
    for (let i = 0; i < 400; i++) await f.meshes[i % 11]?.publish('t', bytes(`m${i}`));
    await f.world.scheduler.runUntilIdle();
    const sent = 400 * 10;
    const delivered = f.ids.reduce((sum, id) => sum + received(f, id).length, 0);
    const lossRate = 1 - delivered / sent;
    assert.equal(f.world.network.dropped().loss, sent - delivered);
    // 4,000 Bernoulli(0.1) trials: sd ≈ 0.0047; ±0.02 is > 4 sd.
    assert.ok(Math.abs(lossRate - 0.1) < 0.02, `loss rate ${lossRate}`);
  });

  it('relays a lost copy through other subscribers, two hops later, and only a lost one', async () => {
    const f = await startFleet(11, { seed: 42, network: { link: { loss: 0.1, latencyMs: 5, jitterMs: 0 } } });
    const t0 = f.world.scheduler.now();
    const arrivals: number[] = [];
    for (const mesh of f.meshes) mesh.on('message', () => arrivals.push(f.world.scheduler.now() - t0));
    for (let i = 0; i < 400; i++) await f.meshes[i % 11]?.publish('t', bytes(`m${i}`));
    await f.world.scheduler.runUntilIdle();
    const direct = arrivals.filter((d) => d === 5).length;
    const relayed = arrivals.filter((d) => d === 10).length;
    // About 400 of the 4,000 direct copies are lost; each is relayed on up to six two-hop paths,
    // all of which fail with probability (1 - 0.9²)^6 ≈ 5e-5: every message reaches everyone.
    assert.equal(direct + relayed, 4_000, 'delivered once each, directly or one relay later');
    assert.ok(relayed > 300 && relayed < 500, `about a tenth relayed: ${relayed}`);
    assert.equal(f.ids.reduce((sum, id) => sum + received(f, id).length, 0), 4_000);
  });

  it('relays nothing across a partition', async () => {
    const f = await startFleet(6, { seed: 5, network: { link: { loss: 0.5 } } });
    f.world.network.partition([['n0000', 'n0001', 'n0002'], ['n0003', 'n0004', 'n0005']]);
    for (let i = 0; i < 100; i++) await f.meshes[0]?.publish('t', bytes(`m${i}`));
    await f.world.scheduler.runUntilIdle();
    for (const id of ['n0003', 'n0004', 'n0005']) assert.deepEqual(received(f, id), [], `${id} is across the partition`);
    assert.ok(received(f, 'n0001').length > 60, 'the publisher\'s side still gets most messages through relays');
  });

  it('duplicates copies on the wire, hides them from listeners unless dedup is off', async () => {
    for (const dedupBroadcasts of [true, false]) {
      const f = await startFleet(2, { seed: 3, network: { link: { duplicate: 0.5 }, dedupBroadcasts } });
      for (let i = 0; i < 200; i++) await f.meshes[0]?.publish('t', bytes(`m${i}`));
      await f.world.scheduler.runUntilIdle();
      const got = received(f, 'n0001');
      const wireIn = f.world.network.stats('n0001').wireMessagesIn;
      assert.ok(wireIn > 260 && wireIn < 340, `about 300 copies arrived: ${wireIn}`);
      if (dedupBroadcasts) {
        assert.equal(got.length, 200);
        assert.equal(new Set(got).size, 200);
      } else {
        assert.equal(got.length, wireIn);
        assert.equal(new Set(got).size, 200);
      }
    }
  });

  it('counts messages and bytes per node', async () => {
    const f = await startFleet(3, { network: { overheadBytes: 10 } });
    await f.meshes[0]?.publish('t', bytes('12345'));
    await f.world.scheduler.runUntilIdle();
    const a = f.world.network.stats('n0000');
    const b = f.world.network.stats('n0001');
    assert.deepEqual([a.messagesOut, a.bytesOut, a.wireMessagesOut, a.wireBytesOut], [1, 5, 2, 2 * (5 + 1 + 10)]);
    assert.deepEqual([b.messagesIn, b.bytesIn, b.wireMessagesIn, b.wireBytesIn], [1, 5, 1, 16]);
    assert.equal(f.world.network.totals().messagesIn, 2);
  });
});

describe('SimNetwork: partitions', () => {
  it('a symmetric partition blocks both ways, brings peers down after detection, and healing restores it', async () => {
    const f = await startFleet(4, { network: { failureDetectionMs: 500, connectDelayMs: 5, link: { jitterMs: 0 } } });
    const net = f.world.network;
    const t0 = f.world.scheduler.now();
    net.partition([['n0000', 'n0001'], ['n0002', 'n0003']]);
    await f.meshes[0]?.publish('t', bytes('left'));
    await f.meshes[3]?.publish('t', bytes('right'));
    await f.world.scheduler.runUntil(t0 + 499);
    assert.deepEqual(received(f, 'n0001'), ['left']);
    assert.deepEqual(received(f, 'n0002'), ['right']);
    assert.deepEqual(received(f, 'n0003'), []);
    assert.deepEqual(f.meshes[0]?.peers(), ['n0001', 'n0002', 'n0003'], 'not yet detected');
    await f.world.scheduler.runUntil(t0 + 500);
    assert.deepEqual(f.meshes[0]?.peers(), ['n0001']);
    assert.deepEqual(f.meshes[3]?.peers(), ['n0002']);
    net.heal();
    await f.world.scheduler.runUntil(t0 + 505);
    assert.deepEqual(f.meshes[0]?.peers(), ['n0001', 'n0002', 'n0003']);
    await f.meshes[0]?.publish('t', bytes('after'));
    await f.world.scheduler.runUntilIdle();
    assert.deepEqual(received(f, 'n0003'), ['after']);
    assert.ok(net.dropped().partition >= 4);
  });

  it('nodes not named in a partition form one group together', async () => {
    const f = await startFleet(4);
    f.world.network.partition([['n0000']]);
    await f.meshes[1]?.publish('t', bytes('x'));
    await f.world.scheduler.runUntilIdle();
    assert.deepEqual(received(f, 'n0000'), []);
    assert.deepEqual([received(f, 'n0002'), received(f, 'n0003')], [['x'], ['x']]);
  });

  it('a one-way block cuts one direction only: requests arrive, responses do not', async () => {
    const f = await startFleet(2);
    const [a, b] = [f.meshes[0], f.meshes[1]];
    assert.ok(a && b);
    let served = 0;
    b.handle('/echo', (req) => {
      served++;
      return Promise.resolve(req);
    });
    f.world.network.blockOneWay(['n0001'], ['n0000']);
    await a.publish('t', bytes('a->b'));
    await b.publish('t', bytes('b->a'));
    const settled = a.request('n0001', '/echo', bytes('ping'), { timeoutMs: 200 }).then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    await f.world.scheduler.runUntilIdle();
    assert.deepEqual(received(f, 'n0001'), ['a->b']);
    assert.deepEqual(received(f, 'n0000'), []);
    assert.equal(served, 1, 'the request got through');
    assert.match(await settled, /timed out after 200 ms/);
    assert.deepEqual(a.peers(), [], 'a connection needs both directions');
    f.world.network.heal();
    await f.world.scheduler.runUntilIdle();
    const r = a.request('n0001', '/echo', bytes('again'));
    await f.world.scheduler.runUntilIdle();
    assert.equal(text(await r), 'again');
  });

  it('drops a copy in flight when the partition starts before it arrives', async () => {
    const f = await startFleet(2, { network: { link: { latencyMs: 100, jitterMs: 0 } } });
    await f.meshes[0]?.publish('t', bytes('in flight'));
    await f.world.scheduler.runUntil(f.world.scheduler.now() + 50);
    f.world.network.partition([['n0000'], ['n0001']]);
    await f.world.scheduler.runUntilIdle();
    assert.deepEqual(received(f, 'n0001'), []);
  });
});

describe('SimNetwork: crash and restart', () => {
  it('a crash silences the node, drops traffic to it, and peers see it down after detection', async () => {
    const f = await startFleet(3, { network: { failureDetectionMs: 800, link: { latencyMs: 10, jitterMs: 0 } } });
    const net = f.world.network;
    const victim = f.meshes[2];
    assert.ok(victim);
    const t0 = f.world.scheduler.now();
    await f.meshes[0]?.publish('t', bytes('in flight'));
    net.crash('n0002');
    assert.equal(net.isUp('n0002'), false);
    assert.equal(victim.state, 'crashed');
    await f.world.scheduler.runUntil(t0 + 799);
    assert.deepEqual(received(f, 'n0002'), []);
    assert.ok(f.meshes[0]?.peers().includes('n0002'));
    await f.world.scheduler.runUntil(t0 + 800);
    assert.deepEqual(f.meshes[0]?.peers(), ['n0001']);
    assert.deepEqual(f.peerLog.get('n0002'), ['up:n0000@5', 'up:n0001@5'], 'a dead node sees nothing');
    await assert.rejects(victim.start(), /crashed/);
    assert.equal(net.dropped().down, 1);
  });

  it('a pending request to a crashed node times out; one from a crashed node never settles', async () => {
    const f = await startFleet(2);
    const [a, b] = [f.meshes[0], f.meshes[1]];
    assert.ok(a && b);
    b.handle('/slow', async () => {
      await f.world.scheduler.clock.sleep(1_000);
      return bytes('late');
    });
    a.handle('/slow', () => new Promise(() => undefined));
    let fromCrashed = 'pending';
    void b.request('n0000', '/slow', bytes('x'), { timeoutMs: 50 }).then(
      () => (fromCrashed = 'resolved'),
      () => (fromCrashed = 'rejected'),
    );
    const toCrashed = capture(a.request('n0001', '/slow', bytes('x'), { timeoutMs: 3_000 }));
    await f.world.scheduler.runUntil(f.world.scheduler.now() + 10);
    f.world.network.crash('n0001');
    await f.world.scheduler.runUntilIdle();
    const err = rejection(await toCrashed);
    assert.ok(err instanceof MeshRequestError && /timed out after 3000 ms/.test(err.message), err.message);
    assert.equal(fromCrashed, 'pending');
  });

  it('a restart is a new epoch: peers see down then up, and traffic resumes', async () => {
    const f = await startFleet(2, { network: { failureDetectionMs: 1_000, connectDelayMs: 5 } });
    const t0 = f.world.scheduler.now();
    f.world.network.crash('n0001');
    await f.world.scheduler.runUntil(t0 + 100);
    const restarted = f.attach('n0001');
    await restarted.start();
    await f.world.scheduler.runUntilIdle();
    assert.deepEqual(f.peerLog.get('n0000')?.slice(1), [`down:n0001@${t0 + 105}`, `up:n0001@${t0 + 105}`]);
    assert.deepEqual(restarted.peers(), ['n0000']);
    await f.meshes[0]?.publish('t', bytes('welcome back'));
    await f.world.scheduler.runUntilIdle();
    assert.deepEqual(received(f, 'n0001'), ['welcome back']);
    assert.throws(() => f.world.network.createMesh('n0001'), /already has a live mesh/);
  });

  it('a graceful stop emits peer:down locally at once and remotely after the connect delay', async () => {
    const f = await startFleet(3, { network: { connectDelayMs: 5 } });
    const t0 = f.world.scheduler.now();
    await f.meshes[2]?.stop();
    assert.deepEqual(f.peerLog.get('n0002')?.slice(2), [`down:n0000@${t0}`, `down:n0001@${t0}`]);
    assert.deepEqual(f.meshes[2]?.peers(), []);
    await f.world.scheduler.runUntilIdle();
    assert.deepEqual(f.peerLog.get('n0000')?.at(-1), `down:n0002@${t0 + 5}`);
    await assert.rejects(f.meshes[2]?.publish('t', bytes('x')) ?? Promise.resolve(), { name: 'MeshNotStartedError' });
  });
});

describe('SimMesh: requests', () => {
  it('answers with the handler response and names the requester', async () => {
    const f = await startFleet(2);
    const [a, b] = [f.meshes[0], f.meshes[1]];
    assert.ok(a && b);
    const callers: string[] = [];
    b.handle('/echo', (req, from) => {
      callers.push(from);
      return Promise.resolve(bytes(`echo:${text(req)}`));
    });
    const reply = a.request('n0001', '/echo', bytes('hi'));
    await f.world.scheduler.runUntilIdle();
    assert.equal(text(await reply), 'echo:hi');
    assert.deepEqual(callers, ['n0000']);
    assert.equal(f.world.network.stats('n0000').requestsOut, 1);
    assert.equal(f.world.network.stats('n0001').requestsIn, 1);
  });

  it('turns a handler error, an unknown protocol, a size cap and an abort into MeshRequestError', async () => {
    const f = await startFleet(2);
    const [a, b] = [f.meshes[0], f.meshes[1]];
    assert.ok(a && b);
    b.handle('/fail', () => Promise.reject(new Error('handler exploded')));
    b.handle('/hang', () => new Promise(() => undefined));
    const failing = capture(a.request('n0001', '/fail', bytes('x')));
    const unknown = capture(a.request('n0001', '/nobody', bytes('x')));
    const controller = new AbortController();
    const aborted = capture(a.request('n0001', '/hang', bytes('x'), { signal: controller.signal }));
    controller.abort();
    const handlerDeadline = capture(a.request('n0001', '/hang', bytes('x'), { timeoutMs: 60_000 }));
    await f.world.scheduler.runUntilIdle();
    const expect = async (result: Promise<PromiseSettledResult<Uint8Array>>, pattern: RegExp): Promise<void> => {
      const e = rejection(await result);
      assert.ok(e instanceof MeshRequestError, `${e.name}: ${e.message}`);
      assert.match(e.message, pattern);
    };
    await expect(failing, /remote handler failed: handler exploded/);
    await expect(unknown, /not supported/);
    await expect(aborted, /aborted by caller/);
    await expect(handlerDeadline, /handler timed out after 30000 ms/);
    await assert.rejects(a.request('n0001', '/x', new Uint8Array(16 * 1024 * 1024 + 1)), MeshRequestError);
    await assert.rejects(a.request('n0000', '/x', bytes('x')), /to self/);
    await assert.rejects(a.request('n9999', '/x', bytes('x')), /unreachable/);
  });

  it('rejects pending requests when the requester stops', async () => {
    const f = await startFleet(2);
    f.meshes[1]?.handle('/hang', () => new Promise(() => undefined));
    const pending = capture(f.meshes[0]?.request('n0001', '/hang', bytes('x')) ?? Promise.resolve(new Uint8Array()));
    await f.world.scheduler.runUntil(f.world.scheduler.now() + 10);
    await f.meshes[0]?.stop();
    assert.match(rejection(await pending).message, /mesh stopped/);
  });
});
