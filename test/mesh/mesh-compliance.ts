/**
 * Mesh compliance suite: the behaviour every Mesh implementation must show. Run it with a
 * factory that builds a fleet of connected-on-start meshes, e.g. the libp2p mesh over the
 * memory transport (libp2p-mesh.test.ts) or the simulator's mesh.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Mesh, MeshEvents, PeerId } from '../../src/mesh/mesh.js';

export interface MeshFleetOptions {
  /** The request/response size cap every mesh of the fleet must enforce. */
  maxRequestBytes: number;
}

export interface MeshFleet {
  /** Not yet started; once started, every mesh must find every other one by itself. */
  meshes: Mesh[];
  /**
   * Resolves once `condition` holds, letting time pass the implementation's way (real time
   * with a generous deadline, or virtual time); rejects naming `description` if it never does.
   */
  waitFor(condition: () => boolean, description: string): Promise<void>;
  /** Stops every mesh and releases everything the fleet holds. */
  close(): Promise<void>;
}

export type MakeMeshFleet = (size: number, options: MeshFleetOptions) => Promise<MeshFleet>;

const MAX_REQUEST_BYTES = 64 * 1024;

function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  assert.ok(item !== undefined, `no item ${index}`);
  return item;
}

async function withFleet(makeFleet: MakeMeshFleet, size: number, body: (fleet: MeshFleet) => Promise<void>): Promise<void> {
  const fleet = await makeFleet(size, { maxRequestBytes: MAX_REQUEST_BYTES });
  try {
    await body(fleet);
  } finally {
    await fleet.close();
  }
}

async function startConnected(fleet: MeshFleet): Promise<void> {
  await Promise.all(fleet.meshes.map((m) => m.start()));
  const n = fleet.meshes.length;
  await fleet.waitFor(() => fleet.meshes.every((m) => m.peers().length === n - 1), `all ${n} meshes see each other`);
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

export function runMeshComplianceSuite(name: string, makeFleet: MakeMeshFleet): void {
  void describe(`Mesh compliance: ${name}`, () => {
    void it('reports peer:up once per peer and peer:down when a peer stops', async () => {
      await withFleet(makeFleet, 3, async (fleet) => {
        const [a, b, c] = [at(fleet.meshes, 0), at(fleet.meshes, 1), at(fleet.meshes, 2)];
        const ups: PeerId[] = [];
        const downs: PeerId[] = [];
        a.on('peer:up', (e) => ups.push(e.peer));
        a.on('peer:down', (e) => downs.push(e.peer));
        await startConnected(fleet);
        assert.deepEqual(a.peers(), [b.self, c.self].sort());
        assert.deepEqual([...ups].sort(), [b.self, c.self].sort(), 'exactly one peer:up per peer');
        assert.ok(!a.peers().includes(a.self), 'a mesh never lists itself');
        await c.stop();
        await fleet.waitFor(() => downs.includes(c.self) && !a.peers().includes(c.self), 'a sees c go down');
        assert.deepEqual(a.peers(), [b.self]);
        assert.deepEqual(downs, [c.self], 'exactly one peer:down, for c');
      });
    });

    void it('delivers a broadcast to subscribers only, not back to the publisher', async () => {
      await withFleet(makeFleet, 3, async (fleet) => {
        const [a, b, c] = [at(fleet.meshes, 0), at(fleet.meshes, 1), at(fleet.meshes, 2)];
        const got = new Map<Mesh, MeshEvents['message'][]>(fleet.meshes.map((m) => [m, []]));
        for (const m of fleet.meshes) m.on('message', (e) => got.get(m)?.push(e));
        a.subscribe('t');
        b.subscribe('t');
        c.subscribe('other');
        await startConnected(fleet);
        // Subscriptions propagate asynchronously: publish until b has heard one.
        let round = 0;
        await fleet.waitFor(() => {
          if ((got.get(b)?.length ?? 0) > 0) return true;
          void a.publish('t', bytes(`hello ${round++}`)).catch(() => {});
          return false;
        }, 'b receives a broadcast from a');
        const first = at(got.get(b) ?? [], 0);
        assert.equal(first.topic, 't');
        assert.equal(first.from, a.self);
        assert.match(text(first.data), /^hello \d+$/);
        // A marker on the topic c does subscribe to: once c has it, c has had its chance at 't'.
        await fleet.waitFor(() => {
          if ((got.get(c)?.length ?? 0) > 0) return true;
          void a.publish('other', bytes('marker')).catch(() => {});
          return false;
        }, 'c receives a broadcast on its own topic');
        assert.ok((got.get(c) ?? []).every((e) => e.topic === 'other'), 'c never receives topic t');
        assert.deepEqual(got.get(a), [], 'the publisher does not receive its own messages');
      });
    });

    void it('keeps delivering to other listeners when one listener throws', async () => {
      await withFleet(makeFleet, 2, async (fleet) => {
        const [a, b] = [at(fleet.meshes, 0), at(fleet.meshes, 1)];
        let after = 0;
        b.on('message', () => {
          throw new Error('listener bug');
        });
        b.on('message', () => after++);
        b.subscribe('t');
        a.subscribe('t');
        await startConnected(fleet);
        await fleet.waitFor(() => {
          if (after > 0) return true;
          void a.publish('t', bytes('x')).catch(() => {});
          return false;
        }, 'the second listener still runs');
      });
    });

    void it('answers a request with the handler response, naming the requester', async () => {
      await withFleet(makeFleet, 2, async (fleet) => {
        const [a, b] = [at(fleet.meshes, 0), at(fleet.meshes, 1)];
        const callers: PeerId[] = [];
        a.handle('/pace-test/echo/1', (request, from) => {
          callers.push(from);
          return Promise.resolve(bytes(`echo:${text(request)}`));
        });
        await startConnected(fleet);
        const response = await b.request(a.self, '/pace-test/echo/1', bytes('ping'), { timeoutMs: 20_000 });
        assert.equal(text(response), 'echo:ping');
        assert.deepEqual(callers, [b.self]);
        const empty = await b.request(a.self, '/pace-test/echo/1', new Uint8Array(0), { timeoutMs: 20_000 });
        assert.equal(text(empty), 'echo:');
      });
    });

    void it('surfaces a handler error, an unknown protocol and a timeout as MeshRequestError', async () => {
      await withFleet(makeFleet, 2, async (fleet) => {
        const [a, b] = [at(fleet.meshes, 0), at(fleet.meshes, 1)];
        a.handle('/pace-test/fail/1', () => Promise.reject(new Error('handler exploded')));
        a.handle('/pace-test/hang/1', (_req, _from, { signal }) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))));
        await startConnected(fleet);
        await assert.rejects(b.request(a.self, '/pace-test/fail/1', bytes('x'), { timeoutMs: 20_000 }), (err: Error) => {
          assert.equal(err.name, 'MeshRequestError');
          assert.match(err.message, /handler exploded/);
          return true;
        });
        await assert.rejects(b.request(a.self, '/pace-test/nobody-handles-this/1', bytes('x'), { timeoutMs: 20_000 }), { name: 'MeshRequestError' });
        await assert.rejects(b.request(a.self, '/pace-test/hang/1', bytes('x'), { timeoutMs: 300 }), { name: 'MeshRequestError' });
        const aborted = new AbortController();
        const pending = b.request(a.self, '/pace-test/hang/1', bytes('x'), { timeoutMs: 60_000, signal: aborted.signal });
        aborted.abort(new Error('caller gave up'));
        await assert.rejects(pending, { name: 'MeshRequestError' });
        // The peer still serves after all that.
        a.handle('/pace-test/ok/1', () => Promise.resolve(bytes('fine')));
        assert.equal(text(await b.request(a.self, '/pace-test/ok/1', bytes('x'), { timeoutMs: 20_000 })), 'fine');
      });
    });

    void it('rejects a request above the size cap and accepts one exactly at it', async () => {
      await withFleet(makeFleet, 2, async (fleet) => {
        const [a, b] = [at(fleet.meshes, 0), at(fleet.meshes, 1)];
        a.handle('/pace-test/size/1', (request) => Promise.resolve(bytes(String(request.byteLength))));
        await startConnected(fleet);
        const atCap = await b.request(a.self, '/pace-test/size/1', new Uint8Array(MAX_REQUEST_BYTES), { timeoutMs: 20_000 });
        assert.equal(text(atCap), String(MAX_REQUEST_BYTES));
        await assert.rejects(b.request(a.self, '/pace-test/size/1', new Uint8Array(MAX_REQUEST_BYTES + 1), { timeoutMs: 20_000 }), { name: 'MeshRequestError' });
      });
    });

    void it('stops idempotently, concurrently and after a stop', async () => {
      await withFleet(makeFleet, 2, async (fleet) => {
        const [a, b] = [at(fleet.meshes, 0), at(fleet.meshes, 1)];
        await startConnected(fleet);
        await a.start(); // starting twice is a no-op
        await Promise.all([a.stop(), a.stop()]);
        await a.stop();
        assert.deepEqual(a.peers(), []);
        await assert.rejects(a.request(b.self, '/pace-test/x/1', bytes('x')), { name: 'MeshRequestError' });
      });
    });
  });
}
