/**
 * Plumbing shared by the fixture programs (test/fixtures/*-node.ts): the config they receive,
 * the mesh settings it maps to, JSON lines on stdout, and the stdin command loop.
 *
 * Protocol: config as a JSON object in argv[2] (or env PACE_TEST_NODE); stdout carries one JSON
 * object per line (`{event: ...}`); stdin carries one JSON command per line, each with an `id`
 * echoed in its `{event:'reply', id, ok, ...}` line. pino logs go to stderr.
 */
import { createInterface } from 'node:readline';
import type { Libp2pMeshInit } from '../../src/mesh/libp2p-mesh.js';
import { LOCAL_MESH_CONFIG } from '../../src/mesh/mesh-config.js';

/** What every fixture node is told at spawn (see test/support/mesh-process.ts). */
export interface FixtureConfig {
  seed: number;
  cluster: string;
  listen: string[];
  mdns: boolean;
  bootstrap: string[];
  swarmKey?: string;
  maxMessageBytes?: number;
  maxRequestBytes?: number;
  topics: string[];
}

/** A command read from stdin. Fields beyond `id` and `cmd` depend on the command. */
export type FixtureCommand = { id?: number; cmd: string } & Record<string, unknown>;

/** Reads the config from argv[2] or PACE_TEST_NODE. */
export function readFixtureConfig<C extends FixtureConfig>(): C {
  return JSON.parse(process.argv[2] ?? process.env['PACE_TEST_NODE'] ?? '{}') as C;
}

/** The mesh settings of a fixture node: the local profile, mDNS queries every 2 s. */
export function fixtureMeshInit(config: FixtureConfig): Libp2pMeshInit {
  return {
    cluster: config.cluster,
    base: LOCAL_MESH_CONFIG,
    listen: config.listen,
    mdns: config.mdns,
    mdnsIntervalMs: 2_000,
    bootstrap: config.bootstrap,
    swarmKey: config.swarmKey,
    maxMessageBytes: config.maxMessageBytes,
    maxRequestBytes: config.maxRequestBytes,
  };
}

/** Writes one JSON line on stdout. */
export function out(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/**
 * Runs commands from stdin until `{cmd:'stop'}` or end of input: each reply is
 * `{event:'reply', id, ok:true, ...result}` or `{event:'reply', id, ok:false, name, error}`.
 * Resolves after the stop command has been dispatched (its own reply may still be pending).
 */
export async function serveCommands(run: (command: FixtureCommand) => Promise<Record<string, unknown>>): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let command: FixtureCommand;
    try {
      command = JSON.parse(line) as FixtureCommand;
    } catch {
      out({ event: 'reply', ok: false, error: 'not JSON' });
      continue;
    }
    run(command).then(
      (result) => out({ event: 'reply', id: command.id, ok: true, ...result }),
      (err: unknown) => out({ event: 'reply', id: command.id, ok: false, name: err instanceof Error ? err.name : 'Error', error: err instanceof Error ? err.message : String(err) }),
    );
    if (command.cmd === 'stop') break;
  }
}

/** Entry-point wrapper: a failure becomes a `fatal` line and exit code 1. */
export function runFixture(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    out({ event: 'fatal', error: err instanceof Error ? err.stack : String(err) });
    process.exitCode = 1;
  });
}
