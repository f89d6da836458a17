/**
 * Runs the real `pace` binary the way a user does, for CLI tests: a fresh process, with the
 * caller's PACE_* environment removed so a developer's shell cannot change a test's outcome.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/cli/package-info.js';

export const root = packageRoot();
export const paceBin = join(root, 'bin', 'pace.js');

export interface PaceResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runPace(args: readonly string[], env: Record<string, string> = {}): PaceResult {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PACE_')));
  const r = spawnSync(process.execPath, [paceBin, ...args], { encoding: 'utf8', cwd: root, env: { ...clean, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `fn` with a fresh temporary directory that is removed afterwards. */
export function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'pace-cli-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
