/**
 * The layer rule that `npm run check:layers` enforces (.dependency-cruiser.cjs) is the diagram
 * docs/ARCHITECTURE.md shows: same rows, same order, same layers side by side. And the rule
 * catches what it is for — an upward import, an import loop, a sideways import, I/O in the pure
 * policy layer — each planted in a scratch copy of the tree.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/cli/package-info.js';

const root = packageRoot();
const run = promisify(execFile);

function documentedRows(): string[][] {
  const doc = readFileSync(join(root, 'docs/ARCHITECTURE.md'), 'utf8');
  const section = doc.split('\n## Layers\n')[1];
  assert.ok(section !== undefined, 'docs/ARCHITECTURE.md has a "## Layers" section');
  const block = /```\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block !== undefined, 'the Layers section has a fenced diagram');
  return block
    .trim()
    .split('\n')
    .map((line) => (line.split(/\s{2,}/)[0] ?? '').split(' | ').map((name) => name.trim()));
}

/** Runs the layer check on a copy of `src` and `simulations` with `plant` applied; resolves with its output and exit code. */
async function checkWith(plant: (dir: string) => void): Promise<{ code: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'pace-layers-'));
  try {
    for (const entry of ['src', 'simulations', 'tsconfig.json', '.dependency-cruiser.cjs']) cpSync(join(root, entry), join(dir, entry), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules')); // packages resolve as in the tree
    plant(dir);
    const bin = join(root, 'node_modules/.bin/depcruise');
    try {
      const { stdout } = await run(bin, ['src', 'simulations', '--config', '.dependency-cruiser.cjs'], { cwd: dir });
      return { code: 0, output: stdout };
    } catch (err) {
      const e = err as { code?: number; stdout?: string };
      return { code: e.code ?? -1, output: e.stdout ?? '' };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the layer rule', () => {
  it('lists the rows of the diagram in docs/ARCHITECTURE.md', () => {
    const { LAYERS } = createRequire(import.meta.url)(join(root, '.dependency-cruiser.cjs')) as { LAYERS: string[][] };
    assert.deepEqual(documentedRows(), LAYERS);
  });

  it('holds on the tree as it is', async () => {
    const result = await checkWith(() => {});
    assert.equal(result.code, 0, result.output);
  });

  it('fails on an upward import (state importing the node) and on the loop it makes, naming both', async () => {
    const result = await checkWith((dir) => {
      const file = join(dir, 'src/state/json.ts');
      writeFileSync(file, `${readFileSync(file, 'utf8')}import type { PaceNode } from '../node/create-node.js';\nexport type Upward = PaceNode;\n`);
    });
    assert.notEqual(result.code, 0);
    assert.match(result.output, /error layer-state: src\/state\/json\.ts → src\/node\/create-node\.ts/);
    assert.match(result.output, /error no-circular/);
  });

  it('fails when the policy layer reaches for a file, a seam below it or a logging package', async () => {
    const result = await checkWith((dir) => {
      writeFileSync(
        join(dir, 'src/policy/impure.ts'),
        "import { readFileSync } from 'node:fs';\nimport { FileStorage } from '../seams/file-storage.js';\nimport { pino } from 'pino';\nexport const impure = [readFileSync, FileStorage, pino];\n",
      );
    });
    assert.notEqual(result.code, 0);
    for (const target of [/→ fs\n/, /→ src\/seams\/file-storage\.ts\n/, /→ \S*node_modules\/pino\//]) {
      assert.match(result.output, new RegExp(`error policy-is-pure: src/policy/impure\\.ts ${target.source}`));
    }
  });

  it('fails when two layers side by side import each other', async () => {
    const result = await checkWith((dir) => {
      writeFileSync(join(dir, 'src/membership/uses-state.ts'), "import type { JsonValue } from '../state/json.js';\nexport type Beside = JsonValue;\n");
    });
    assert.notEqual(result.code, 0);
    assert.match(result.output, /error layer-membership: src\/membership\/uses-state\.ts → src\/state\/json\.ts/);
  });
});
