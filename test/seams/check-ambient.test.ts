import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AMBIENT_ALLOWLIST, checkTree, findAmbientUses, formatFinding } from '../../scripts/check-ambient.js';

/** What each finding in `source` reports, in order. */
const uses = (source: string): string[] => findAmbientUses('fixture.ts', source).map((f) => f.what);

describe('check-ambient', () => {
  it('finds ambient time', () => {
    assert.deepEqual(uses('const a = Date.now();'), ['Date.now']);
    assert.deepEqual(uses('const f = Date.now;'), ['Date.now']);
    assert.deepEqual(uses('const d = new Date();'), ['new Date()']);
    assert.deepEqual(uses('const d = new Date;'), ['new Date()']);
    assert.deepEqual(uses('const s = Date();'), ['Date()']);
    assert.deepEqual(uses('const t = performance.now();'), ['performance.now']);
    assert.deepEqual(uses('globalThis.Date.now();'), ['Date.now']);
  });

  it('finds timers, called or passed, bare or through globalThis', () => {
    assert.deepEqual(uses('setTimeout(f, 1); setInterval(f, 1); setImmediate(f);'), ['setTimeout', 'setInterval', 'setImmediate']);
    assert.deepEqual(uses('globalThis.setTimeout(f, 1);'), ['setTimeout']);
    assert.deepEqual(uses('const s = { setTimeout };'), ['setTimeout']);
    assert.deepEqual(uses('run(setImmediate);'), ['setImmediate']);
    assert.deepEqual(uses('process.nextTick(f); const p = { nextTick: 1 }; q.nextTick(f);'), ['process.nextTick']);
    assert.deepEqual(uses("import { nextTick as t } from 'node:process';"), ["nextTick (from 'node:process')"]);
  });

  it('finds imports from node:timers', () => {
    assert.deepEqual(uses("import { setTimeout } from 'node:timers/promises';"), ["import from 'node:timers/promises'"]);
    assert.deepEqual(uses("import timers from 'node:timers';"), ["import from 'node:timers'"]);
    assert.deepEqual(uses("const t = await import('timers/promises');"), ["import('timers/promises')"]);
  });

  it('finds ambient randomness: Math.random and crypto, by namespace or named import', () => {
    assert.deepEqual(uses('const r = Math.random();'), ['Math.random']);
    assert.deepEqual(uses('crypto.randomUUID(); globalThis.crypto.getRandomValues(b);'), ['crypto.randomUUID', 'crypto.getRandomValues']);
    assert.deepEqual(uses("import * as c from 'node:crypto'; c.randomBytes(4); c.createHash('sha256');"), ['crypto.randomBytes']);
    assert.deepEqual(uses("import nc from 'crypto'; nc.randomFillSync(b);"), ['crypto.randomFillSync']);
    assert.deepEqual(
      uses("import { randomBytes, randomInt as ri, createHash } from 'node:crypto'; randomBytes(4); ri(3); createHash('x');"),
      ['randomBytes (from node:crypto)', 'randomInt (from node:crypto)'],
    );
    assert.deepEqual(uses("import { webcrypto } from 'node:crypto'; webcrypto.getRandomValues(b);"), ['crypto.getRandomValues']);
  });

  it('ignores comments, strings, and look-alikes that are not ambient', () => {
    const clean = [
      '// Date.now() and setTimeout(f) in a comment',
      '/* Math.random() */',
      "const s = 'Date.now() setTimeout Math.random() crypto.randomBytes(1)';",
      'const t = `new Date() ${1}`;',
      'const d = new Date(clock.now());',
      'const e = new Date(2024, 1, 2);',
      'const p = Date.parse(s);',
      'clock.setTimeout(f, 1); clock.setTimer(1, f); this.random.int(3);',
      'const o = { setTimeout: 1, now: 2 };',
      'function f(setTimeout: number): void {}',
      'type T = ReturnType<typeof setTimeout>;',
      "import type { setTimeout as T } from 'node:timers';",
      "import { createHash } from 'node:crypto'; createHash('sha256');",
      'interface C { setInterval(): void }',
    ].join('\n');
    assert.deepEqual(findAmbientUses('clean.ts', clean), []);
  });

  it('reports file, 1-based line and column in the documented format', () => {
    const [finding] = findAmbientUses('src/x.ts', '\n  const a = Date.now();');
    assert.ok(finding !== undefined);
    assert.deepEqual({ line: finding.line, column: finding.column }, { line: 2, column: 13 });
    assert.equal(
      formatFinding(finding),
      'src/x.ts:2:13: ambient Date.now is not allowed outside the seam adapters (use the injected Clock/Random)',
    );
  });

  it('allows exactly the adapters DESIGN.md names', () => {
    assert.deepEqual(AMBIENT_ALLOWLIST, ['src/seams/system-clock.ts', 'src/seams/system-random.ts']);
  });

  it('finds no ambient use in the real src/ tree', () => {
    // dist/test/seams/ -> repository root
    const root = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
    const { files, findings } = checkTree(root);
    assert.ok(files > 0);
    assert.deepEqual(findings.map(formatFinding), []);
  });
});
