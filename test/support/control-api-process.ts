/** Drives one `dist/test/fixtures/control-api-node.js` process: waits for it, queries it, stops it. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ApiEndpoint } from '../../src/api/api-files.js';
import type { FakeMethod } from './fake-node-control.js';
import { waitUntil } from './wait.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/control-api-node.js', import.meta.url));

export interface ControlApiProcessConfig {
  dataDir: string;
  socket?: string;
  failing?: FakeMethod[];
  noPolicy?: boolean;
}

type FixtureEvent = { event: string } & Record<string, unknown>;

export class ControlApiProcess {
  readonly #events: FixtureEvent[] = [];
  #stderr = '';
  endpoint: ApiEndpoint = { url: '' };

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => this.#events.push(JSON.parse(line) as FixtureEvent));
    child.stderr.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-20_000);
    });
  }

  static async start(config: ControlApiProcessConfig): Promise<ControlApiProcess> {
    const node = new ControlApiProcess(spawn(process.execPath, [FIXTURE, JSON.stringify(config)]));
    const ready = await node.#waitFor('ready');
    node.endpoint = ready['endpoint'] as ApiEndpoint;
    return node;
  }

  /** How many leaves and applies the fake NodeControl has seen. */
  async state(): Promise<{ leaves: number; applied: number }> {
    const before = this.#events.length;
    this.child.stdin.write('state\n');
    const e = await this.#waitFor('state', before);
    return { leaves: Number(e['leaves']), applied: Number(e['applied']) };
  }

  /** The fixture's log (stderr), for assertions on what was logged. */
  get stderr(): string {
    return this.#stderr;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end('stop\n');
    await exited;
  }

  async #waitFor(event: string, from = 0): Promise<FixtureEvent> {
    let found: FixtureEvent | undefined;
    await waitUntil(() => {
      found = this.#events.slice(from).find((e) => e.event === event);
      const fatal = this.#events.find((e) => e.event === 'fatal');
      if (fatal) throw new Error(`control API fixture died: ${String(fatal['error'])}\n${this.#stderr}`);
      return found !== undefined;
    }, `control API fixture: ${event}`);
    return found as FixtureEvent;
  }
}
