/**
 * Drives one fixture process (`dist/test/fixtures/mesh-node.js` by default, or another program
 * speaking the same stdio protocol, e.g. state-node.js) inside a test namespace: collects its
 * JSON-line events and sends it commands.
 */
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { FixtureConfig } from './fixture-io.js';
import type { Netns } from './netns.js';
import { waitUntil } from './wait.js';

export type FixtureEvent = { event: string } & Record<string, unknown>;

/** The config every fixture node takes (fixtures may take more; see fixture-io.ts). */
export type FixtureNodeConfig = FixtureConfig;

/** The compiled mesh-node fixture (the default program). */
export const MESH_FIXTURE = fileURLToPath(new URL('../fixtures/mesh-node.js', import.meta.url));

export class MeshProcess {
  readonly events: FixtureEvent[] = [];
  private nextId = 1;
  private stderr = '';
  peer = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams, readonly config: FixtureNodeConfig) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as FixtureEvent);
      } catch {
        this.events.push({ event: 'unparsed', line });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-20_000);
    });
  }

  /** Spawns `fixture` in `ns` with `config` and waits for its `ready` line. */
  static async start(ns: Netns, config: FixtureNodeConfig, fixture: string = MESH_FIXTURE): Promise<MeshProcess> {
    const child = ns.spawn(process.execPath, [fixture, JSON.stringify(config)]);
    const node = new MeshProcess(child, config);
    const ready = await node.waitForEvent((e) => e.event === 'ready', 'ready');
    node.peer = String(ready['peer']);
    return node;
  }

  /** The first event matching `predicate`, waiting for it if needed. */
  async waitForEvent(predicate: (e: FixtureEvent) => boolean, description: string): Promise<FixtureEvent> {
    let found: FixtureEvent | undefined;
    try {
      await waitUntil(() => {
        found = this.events.find(predicate);
        if (found === undefined && this.events.some((e) => e.event === 'fatal')) throw new Error(`fixture died: ${JSON.stringify(this.events.find((e) => e.event === 'fatal'))}`);
        return found !== undefined;
      }, `node ${this.config.seed}: ${description}`);
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- stderr of node ${this.config.seed} ---\n${this.stderr.slice(-4000)}`);
    }
    return found as FixtureEvent;
  }

  /** Sends a command and resolves with its reply (ok or not). */
  async command(cmd: Record<string, unknown>): Promise<FixtureEvent> {
    const id = this.nextId++;
    this.child.stdin.write(`${JSON.stringify({ ...cmd, id })}\n`);
    return this.waitForEvent((e) => e.event === 'reply' && e['id'] === id, `reply to ${String(cmd['cmd'])}`);
  }

  peersUp(): Set<string> {
    const up = new Set<string>();
    for (const e of this.events) {
      if (e.event === 'peer:up') up.add(String(e['peer']));
      if (e.event === 'peer:down') up.delete(String(e['peer']));
    }
    return up;
  }

  messages(topic?: string): FixtureEvent[] {
    return this.events.filter((e) => e.event === 'message' && (topic === undefined || e['topic'] === topic));
  }
}
