import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BroadcastQueue } from '../../src/membership/broadcast-queue.js';
import { requestWithin } from '../../src/membership/deadline.js';
import { ProbeOrder } from '../../src/membership/probe-order.js';
import { supersedes, type MemberStatus } from '../../src/membership/status.js';
import { Suspicion } from '../../src/membership/suspicion.js';
import { suspicionTimeoutMs } from '../../src/membership/timing.js';
import { decodeMessage, encodeMessage, encodedUpdateSize, swimProtocol, type SwimMessage, type WireUpdate } from '../../src/membership/wire.js';
import type { Mesh } from '../../src/mesh/mesh.js';
import { ManualClock } from '../../src/seams/manual-clock.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';

const update = (node: string, status: MemberStatus = 'alive', incarnation = 0, from = node): WireUpdate => ({ node, status, incarnation, from });

describe('status precedence', () => {
  it('lets a higher incarnation win, and at equal incarnation left > down > suspect > alive', () => {
    const order: MemberStatus[] = ['alive', 'suspect', 'down', 'left'];
    for (const [i, a] of order.entries()) {
      for (const [j, b] of order.entries()) {
        assert.equal(supersedes({ status: a, incarnation: 3 }, { status: b, incarnation: 3 }), i > j, `${a} over ${b}`);
        assert.equal(supersedes({ status: a, incarnation: 4 }, { status: b, incarnation: 3 }), true);
        assert.equal(supersedes({ status: a, incarnation: 2 }, { status: b, incarnation: 3 }), false);
      }
    }
  });
});

describe('wire format', () => {
  it('round-trips every message type', () => {
    const messages: SwimMessage[] = [
      { v: 1, type: 'ping', inc: 3, updates: [update('a', 'suspect', 2, 'b')] },
      { v: 1, type: 'ping-req', inc: 0, updates: [], target: 'c', timeoutMs: 400 },
      { v: 1, type: 'ack', inc: 7, updates: [update('d', 'left', 1)] },
      { v: 1, type: 'nack', inc: 0, updates: [] },
      { v: 1, type: 'ping', inc: 0, updates: [], state: '0123456789abcdef' },
      { v: 1, type: 'ack', inc: 0, updates: [], state: 'f'.repeat(64) },
    ];
    for (const m of messages) assert.deepEqual(decodeMessage(encodeMessage(m), 4096), { ok: true, message: m });
    assert.equal(swimProtocol('site-a'), '/pace/site-a/swim/1');
  });

  it('drops unknown fields instead of passing them on', () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ v: 1, type: 'ack', inc: 0, updates: [], extra: 'x' }));
    assert.deepEqual(decodeMessage(bytes, 4096), { ok: true, message: { v: 1, type: 'ack', inc: 0, updates: [] } });
  });

  it('reports a reason for every kind of garbage and never throws', () => {
    const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
    const cases: [Uint8Array, string][] = [
      [new Uint8Array(5000), 'too-large'],
      [new Uint8Array([0xc3, 0x28]), 'not-json'],
      [enc('ping'), 'malformed'],
      [enc(null), 'malformed'],
      [enc({ type: 'ping', inc: 0, updates: [] }), 'bad-version'],
      [enc({ v: 1, type: 'PING', inc: 0, updates: [] }), 'unknown-type'],
      [enc({ v: 1, type: 'ping', inc: 1.5, updates: [] }), 'malformed'],
      [enc({ v: 1, type: 'ping', inc: 0 }), 'malformed'],
      [enc({ v: 1, type: 'ping', inc: 0, updates: Array.from({ length: 65 }, () => update('a')) }), 'malformed'],
      [enc({ v: 1, type: 'ping', inc: 0, updates: [{ node: '', status: 'alive', incarnation: 0, from: 'a' }] }), 'malformed'],
      [enc({ v: 1, type: 'ping', inc: 0, updates: [{ node: 'a'.repeat(257), status: 'alive', incarnation: 0, from: 'a' }] }), 'malformed'],
      [enc({ v: 1, type: 'ping-req', inc: 0, updates: [], timeoutMs: 100 }), 'malformed'],
      [enc({ v: 1, type: 'ping-req', inc: 0, updates: [], target: 'a', timeoutMs: -1 }), 'malformed'],
      [enc({ v: 1, type: 'ping', inc: 0, updates: [], state: 'ABCDEF' }), 'malformed'],
      [enc({ v: 1, type: 'ping', inc: 0, updates: [], state: '' }), 'malformed'],
      [enc({ v: 1, type: 'ack', inc: 0, updates: [], state: 'a'.repeat(65) }), 'malformed'],
      [enc({ v: 1, type: 'ack', inc: 0, updates: [], state: 42 }), 'malformed'],
    ];
    for (const [bytes, reason] of cases) {
      const result = decodeMessage(bytes, 4096);
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.reason, reason, result.detail);
    }
  });
});

describe('BroadcastQueue', () => {
  it('sends least-sent updates first, newest first among equals, and retires them after the limit', () => {
    const q = new BroadcastQueue();
    q.enqueue(update('a'));
    q.enqueue(update('b'));
    const big = 10_000;
    assert.deepEqual(q.take(big, 2).map((u) => u.node), ['b', 'a']);
    q.enqueue(update('c'));
    assert.deepEqual(q.take(big, 2).map((u) => u.node), ['c', 'b', 'a']);
    assert.deepEqual(q.take(big, 2).map((u) => u.node), ['c']);
    assert.equal(q.size, 0);
    assert.deepEqual(q.take(big, 2), []);
  });

  it('keeps one update per node (newest replaces and restarts the count) and fits the byte budget', () => {
    const q = new BroadcastQueue();
    q.enqueue(update('a', 'suspect', 0, 'x'));
    q.take(10_000, 3);
    q.enqueue(update('a', 'down', 0, 'x'));
    assert.deepEqual(q.take(10_000, 3), [update('a', 'down', 0, 'x')]);
    for (const node of ['b', 'c', 'd']) q.enqueue(update(node));
    const one = encodedUpdateSize(update('b'));
    assert.equal(q.take(2 * one, 3).length, 2);
    assert.deepEqual(q.take(0, 3), []);
    assert.deepEqual(q.take(10_000, 3, new Set(['a', 'b', 'c', 'd'])), []);
  });
});

describe('Suspicion', () => {
  const bounds = { minMs: 1_000, maxMs: 6_000, expectedConfirmations: 2 };

  it('expires after the maximum with no confirmation', () => {
    const clock = new ManualClock();
    let expired = 0;
    new Suspicion(0, 'a', bounds, clock, () => expired++);
    clock.advance(5_999);
    assert.equal(expired, 0);
    clock.advance(1);
    assert.equal(expired, 1);
    clock.advance(100_000);
    assert.equal(expired, 1);
  });

  it('expires sooner with each independent confirmation, never below the minimum, ignoring repeats', () => {
    const clock = new ManualClock();
    let expiredAt: number | undefined;
    const s = new Suspicion(0, 'a', bounds, clock, () => (expiredAt = clock.now()));
    assert.equal(s.confirm('a'), false);
    clock.advance(500);
    assert.equal(s.confirm('b'), true);
    assert.equal(s.confirm('b'), false);
    assert.equal(s.deadline, suspicionTimeoutMs(bounds, 1), 'one confirmation: max - (max - min) * log 2 / log 3 after the start');
    assert.equal(s.deadline, 2_845);
    clock.advance(100);
    assert.equal(s.confirm('c'), true);
    assert.equal(s.confirm('d'), false, 'no count beyond the expected confirmations');
    clock.advance(10_000);
    assert.equal(expiredAt, 1_000, 'the minimum, counted from the start, had already passed: fires at once');
  });

  it('never fires once cancelled', () => {
    const clock = new ManualClock();
    let expired = false;
    const s = new Suspicion(0, 'a', bounds, clock, () => (expired = true));
    s.cancel();
    assert.equal(s.confirm('b'), false);
    clock.advance(10_000);
    assert.equal(expired, false);
  });
});

describe('ProbeOrder', () => {
  it('visits every candidate once per round, in a seed-determined order that changes between rounds', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    const order = new ProbeOrder(new SeededRandom(1));
    const round1 = ids.map(() => order.next(ids));
    const round2 = ids.map(() => order.next(ids));
    assert.deepEqual([...round1].sort(), ids);
    assert.deepEqual([...round2].sort(), ids);
    assert.notDeepEqual(round1, round2);
    const again = new ProbeOrder(new SeededRandom(1));
    assert.deepEqual(ids.map(() => again.next(ids)), round1);
  });

  it('skips members that stopped being candidates and returns undefined for none', () => {
    const order = new ProbeOrder(new SeededRandom(2));
    assert.equal(order.next([]), undefined);
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 10; i++) seen.add(order.next(['a', 'b']));
    for (let i = 0; i < 10; i++) assert.equal(order.next(['b']), 'b');
    assert.deepEqual([...seen].sort(), ['a', 'b']);
  });
});

describe('requestWithin', () => {
  /** A mesh whose requests settle only when the test says so (only `request` is used). */
  function pendingMesh(): { mesh: Mesh; answer: (data: Uint8Array) => void; calls: number } {
    const state = { calls: 0, answer: (_: Uint8Array): void => undefined };
    const mesh = {
      request: (): Promise<Uint8Array> => {
        state.calls++;
        return new Promise<Uint8Array>((resolve) => (state.answer = resolve));
      },
    } as unknown as Mesh;
    return { mesh, answer: (data) => state.answer(data), get calls() { return state.calls; } };
  }
  const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it('resolves with the answer, or undefined once its own clock passes the timeout', async () => {
    const clock = new ManualClock();
    const life = new AbortController();
    const answered = pendingMesh();
    const first = requestWithin(answered.mesh, clock, 'b', 'p', new Uint8Array(1), 500, life.signal);
    answered.answer(Uint8Array.of(7));
    assert.deepEqual(await first, Uint8Array.of(7));
    const silent = pendingMesh();
    let result: Uint8Array | undefined | 'unsettled' = 'unsettled';
    void requestWithin(silent.mesh, clock, 'b', 'p', new Uint8Array(1), 500, life.signal).then((r) => (result = r));
    clock.advance(499);
    await tick();
    assert.equal(result, 'unsettled');
    clock.advance(1);
    await tick();
    assert.equal(result, undefined);
  });

  it('gives every request waiting on a signal up at once when it aborts, and sends none after', async () => {
    const clock = new ManualClock();
    const life = new AbortController();
    const meshes = [pendingMesh(), pendingMesh(), pendingMesh()];
    const results = meshes.map((m) => requestWithin(m.mesh, clock, 'b', 'p', new Uint8Array(1), 500, life.signal));
    meshes[1]!.answer(Uint8Array.of(1));
    assert.deepEqual(await results[1], Uint8Array.of(1));
    life.abort(new Error('stopped'));
    assert.deepEqual(await Promise.all(results), [undefined, Uint8Array.of(1), undefined]);
    const late = pendingMesh();
    assert.equal(await requestWithin(late.mesh, clock, 'b', 'p', new Uint8Array(1), 500, life.signal), undefined);
    assert.equal(late.calls, 0, 'an aborted signal sends nothing');
    // An answer arriving after the abort changes nothing.
    meshes[0]!.answer(Uint8Array.of(9));
    assert.equal(await results[0], undefined);
  });
});
