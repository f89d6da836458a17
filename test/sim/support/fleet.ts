/** Small helpers for simulator tests: a world with N started meshes and message recorders. */
import type { MeshEvents } from '../../../src/mesh/mesh.js';
import type { SimMesh } from '../../../simulations/harness/sim-mesh.js';
import { createSimWorld, type SimWorld, type SimWorldInit } from '../../../simulations/harness/world.js';

export interface TestFleet {
  world: SimWorld;
  meshes: SimMesh[];
  ids: string[];
  /** Every message each node received, in arrival order. */
  inbox: Map<string, MeshEvents['message'][]>;
  /** Every peer event each node saw, as `up:<peer>@<time>` / `down:<peer>@<time>`. */
  peerLog: Map<string, string[]>;
  /** Creates (or recreates) the mesh of `id` with the recorders attached. */
  attach(id: string): SimMesh;
}

export const nodeId = (i: number): string => `n${String(i).padStart(4, '0')}`;
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (data: Uint8Array): string => new TextDecoder().decode(data);

/**
 * Builds `size` meshes subscribed to `topics`, starts them and (by default) runs until all
 * connect. `record: false` skips the inbox and peer-log recorders (large fleets).
 */
export async function startFleet(size: number, init: Omit<SimWorldInit, 'seed'> & { seed?: SimWorldInit['seed']; topics?: string[]; connect?: boolean; record?: boolean } = {}): Promise<TestFleet> {
  const world = createSimWorld({ seed: 1, ...init });
  const ids = Array.from({ length: size }, (_, i) => nodeId(i));
  const inbox = new Map<string, MeshEvents['message'][]>(ids.map((id) => [id, []]));
  const peerLog = new Map<string, string[]>(ids.map((id) => [id, []]));
  const attach = (id: string): SimMesh => {
    const mesh = world.network.createMesh(id);
    if (init.record ?? true) {
      mesh.on('message', (e) => inbox.get(id)?.push(e));
      mesh.on('peer:up', (e) => peerLog.get(id)?.push(`up:${e.peer}@${world.scheduler.now()}`));
      mesh.on('peer:down', (e) => peerLog.get(id)?.push(`down:${e.peer}@${world.scheduler.now()}`));
    }
    for (const topic of init.topics ?? ['t']) mesh.subscribe(topic);
    return mesh;
  };
  const meshes = ids.map(attach);
  for (const mesh of meshes) await mesh.start();
  if (init.connect ?? true) await world.scheduler.runUntilIdle();
  return { world, meshes, ids, inbox, peerLog, attach };
}

/** The payload texts `id` received, in order. */
export function received(fleet: TestFleet, id: string): string[] {
  return (fleet.inbox.get(id) ?? []).map((e) => text(e.data));
}

/**
 * Attaches handlers at once, so a promise that rejects while the scheduler runs is not an
 * unhandled rejection; await the result to assert on it.
 */
export function capture<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return Promise.allSettled([promise]).then(([result]) => result as PromiseSettledResult<T>);
}

/** The rejection's message of a settled result, or throws if it resolved. */
export function rejection(result: PromiseSettledResult<unknown>): Error {
  if (result.status === 'fulfilled') throw new Error('expected a rejection, got a value');
  return result.reason as Error;
}
