/**
 * Replicated-node fixture processes (test/fixtures/state-node.ts) in a test namespace, driven
 * through {@link MeshProcess} (same stdio protocol), plus readers of what they reported.
 */
import { fileURLToPath } from 'node:url';
import type { StateNodeConfig } from '../fixtures/state-node.js';
import { MeshProcess } from './mesh-process.js';
import type { Netns } from './netns.js';

export type { StateNodeConfig } from '../fixtures/state-node.js';

const STATE_FIXTURE = fileURLToPath(new URL('../fixtures/state-node.js', import.meta.url));

/** Spawns a state-node fixture in `ns` and waits for its `ready` line. */
export function startStateNode(ns: Netns, config: StateNodeConfig): Promise<MeshProcess> {
  return MeshProcess.start(ns, config, STATE_FIXTURE);
}

/** The document as the node last reported it (its `ready` line, then each `heads` line). */
export function lastReported(node: MeshProcess): { heads: string[]; members: string[] } {
  for (let i = node.events.length - 1; i >= 0; i--) {
    const e = node.events[i];
    if (e !== undefined && (e.event === 'heads' || e.event === 'ready')) return { heads: e['heads'] as string[], members: e['members'] as string[] };
  }
  return { heads: [], members: [] };
}

/** True when every node last reported the same heads and exactly `ids` as members. */
export function reportedConverged(nodes: readonly MeshProcess[], ids: readonly string[]): boolean {
  const want = [...ids].sort().join();
  const reports = nodes.map(lastReported);
  return new Set(reports.map((r) => r.heads.join())).size === 1 && reports.every((r) => r.members.join() === want);
}
