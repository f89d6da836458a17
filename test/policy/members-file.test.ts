/** A bad members file gets every problem named by entry and field, never a stack trace. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MembersFileError, parseMembers } from '../../src/policy/members-file.js';

const good = { id: 'a', facts: { cpus: 2, memoryMB: 2048, diskGB: 32, arch: 'amd64' }, labels: { zone: 'x' }, alive: true, role: null };

function problemsOf(text: string): string[] {
  try {
    parseMembers(text, 'm.json');
  } catch (err) {
    assert.ok(err instanceof MembersFileError);
    assert.equal(err.file, 'm.json');
    return err.problems;
  }
  assert.fail('expected the members file to be rejected');
}

test('a valid members file parses, labels default to empty', () => {
  const { labels: _labels, ...noLabels } = good;
  const members = parseMembers(JSON.stringify([good, { ...noLabels, id: 'b', role: 'worker' }]), 'm.json');
  assert.equal(members.length, 2);
  assert.deepEqual(members[1]?.labels, {});
  assert.equal(members[1]?.role, 'worker');
});

test('invalid JSON reports line and column', () => {
  const [problem] = problemsOf('[\n  { "id": "a", }\n]');
  assert.match(problem!, /invalid JSON at line 2, column \d+/);
});

test('the top level must be an array', () => {
  assert.deepEqual(problemsOf('{"id":"a"}'), ['expected a JSON array of members, got an object']);
});

test('each wrong field is named with its entry index', () => {
  const bad = [
    good,
    { ...good, id: '', facts: { ...good.facts, memoryMB: 'lots' } },
    { ...good, id: 'c', alive: 'yes', role: 'boss', extra: 1 },
    { ...good, id: 'd', facts: { cpus: -1, memoryMB: 1.5, diskGB: 1, arch: '' }, labels: { 'bad key!': 'v', ok: 3 } },
  ];
  const problems = problemsOf(JSON.stringify(bad));
  const expected = [
    '[1].id: must be a non-empty string',
    '[1].facts.memoryMB: must be a non-negative integer, got string "lots"',
    "[2]: unknown key 'extra'",
    '[2].alive: must be true or false, got string "yes"',
    '[2].role: must be one of manager, worker, manager+worker, none or null, got "boss"',
    '[3].facts.cpus: must be a non-negative integer, got number -1',
    '[3].facts.memoryMB: must be a non-negative integer, got number 1.5',
    '[3].facts.arch: must be a non-empty string',
    '[3].labels: invalid label key "bad key!"',
    '[3].labels.ok: must be a string',
  ];
  for (const fragment of expected) assert.ok(problems.some((p) => p.startsWith(fragment)), `missing "${fragment}" in:\n${problems.join('\n')}`);
});

test('duplicate ids are rejected, naming the first occurrence', () => {
  assert.deepEqual(problemsOf(JSON.stringify([good, good])), ["[1].id: duplicate id 'a' (first at [0])"]);
});
