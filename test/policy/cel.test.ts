/** CEL over node facts: compile-time checks and runtime behaviour the evaluator relies on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { celNode, compileExpression, type CompiledExpression } from '../../src/policy/cel.js';

const node = celNode('n1', { cpus: 4, memoryMB: 4096, diskGB: 64, arch: 'amd64' }, { zone: 'a' });

function compiled(source: string, kind: 'bool' | 'rank'): CompiledExpression {
  const c = compileExpression(source, kind);
  assert.ok(!Array.isArray(c), `expected ${source} to compile: ${JSON.stringify(c)}`);
  return c;
}

test('facts are integers, so arithmetic and comparison with int literals work', () => {
  assert.deepEqual(compiled('node.memoryMB / 1024 >= 4 && node.cpus + 1 == 5', 'bool').evaluate(node), { ok: true, value: true });
  assert.deepEqual(compiled('node.memoryMB * 2', 'rank').evaluate(node), { ok: true, value: 8192 });
  assert.deepEqual(compiled('node.memoryMB > 2.5', 'bool').evaluate(node), { ok: true, value: true });
});

test('a missing label is a runtime error, guarded with has()', () => {
  const e = compiled("node.labels.rack == 'r1'", 'bool').evaluate(node);
  assert.equal(e.ok, false);
  assert.deepEqual(compiled("has(node.labels.rack) && node.labels.rack == 'r1'", 'bool').evaluate(node), { ok: true, value: false });
  assert.deepEqual(compiled("node.labels['zone'] == 'a'", 'bool').evaluate(node), { ok: true, value: true });
});

test('the node id and arch are strings', () => {
  assert.deepEqual(compiled("node.id.startsWith('n') && node.arch == 'amd64'", 'bool').evaluate(node), { ok: true, value: true });
});

test('problems carry the offset inside the expression', () => {
  assert.deepEqual(compileExpression('node.cpus >= 2 && node.ram > 1', 'bool'), [
    { offset: 22, message: "node has no field 'ram' (fields: id, cpus, memoryMB, diskGB, arch, labels)" },
  ]);
  const syntax = compileExpression('node.cpus >=', 'bool');
  assert.ok(Array.isArray(syntax) && syntax[0]?.message.startsWith('syntax error'));
});

test('message construction and unknown variables are refused', () => {
  assert.ok(Array.isArray(compileExpression('google.protobuf.Duration{seconds: 1} == node', 'bool')));
  assert.ok(Array.isArray(compileExpression('now > 3', 'bool')));
});

test('a value-dependent error does not fail compilation; it fails only that node', () => {
  const c = compiled('100 / (node.cpus - 4) > 1', 'bool');
  assert.equal(c.evaluate(node).ok, false);
  assert.equal(c.evaluate(celNode('n2', { cpus: 2, memoryMB: 1, diskGB: 1, arch: 'x' }, {})).ok, true);
});
