/**
 * The `pace` binary as a user runs it: real process, real files, exit codes and output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, runPace, withTempDir, type PaceResult } from '../support/pace-binary.js';

const pace = (...args: string[]): PaceResult => runPace(args);
const members = join(root, 'policies', 'examples', 'site-ha.members.json');
const siteHa = join(root, 'policies', 'site-ha.yaml');



test('--version prints the package version; --help lists commands and exit codes', () => {
  const v = pace('--version');
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
  const h = pace('--help');
  assert.equal(h.code, 0);
  assert.match(h.stdout, /policy/);
  assert.match(h.stdout, /Exit codes: 0 ok/);
});

test('every policy command has --help', () => {
  for (const sub of ['check', 'plan', 'explain']) {
    const r = pace('policy', sub, '--help');
    assert.equal(r.code, 0, sub);
    assert.match(r.stdout, new RegExp(`Usage: pace policy ${sub}`));
  }
});

test('unknown commands and missing options are usage errors (exit 2)', () => {
  assert.equal(pace('frobnicate').code, 2);
  const r = pace('policy', 'plan', siteHa);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--members/);
});

test('policy check: shipped policies are valid (exit 0)', () => {
  const r = pace('policy', 'check', join(root, 'policies', 'site-ha.yaml'), join(root, 'policies', 'zone-spread.yaml'), join(root, 'policies', 'tiny-site.yaml'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 3);
});

test('policy check: a bad policy exits 5 with FILE:LINE:COL lines', () => {
  withTempDir((dir) => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'apiVersion: pace/v1\nkind: ClusterPolicy\nmetadata: { name: x, version: 1 }\nspec:\n  driver: { name: etcd }\n  managers:\n    count: [ { atLeast: 2, managers: 2 } ]\n');
    const r = pace('policy', 'check', file, siteHa);
    assert.equal(r.code, 5);
    assert.equal(r.stderr.trim(), `${file}:7:38: spec.managers.count[0].managers: even manager count 2: quorum needs an odd number (2 managers tolerate no more failures than 1)`);
    assert.match(r.stdout, /site-ha.yaml: ok/);
  });
});

test('policy check: a missing file exits 5 and says so', () => {
  const r = pace('policy', 'check', '/nonexistent/p.yaml');
  assert.equal(r.code, 5);
  assert.match(r.stderr, /\/nonexistent\/p.yaml: cannot read policy: no such file/);
});

test('policy plan: prints a table with every node', () => {
  const r = pace('policy', 'plan', siteHa, '--members', members);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ID\s+ROLE\s+WHY$/m);
  assert.match(r.stdout, /^edge-01\s+manager\+worker\s+takes a manager seat 1 of 3/m);
  assert.match(r.stdout, /^edge-06\s+worker\s+/m);
});

test('policy plan --json: policy, nodes sorted by id with roles and reasons', () => {
  const r = pace('policy', 'plan', siteHa, '--members', members, '--json');
  assert.equal(r.code, 0, r.stderr);
  const plan = JSON.parse(r.stdout) as { policy: { name: string; version: number }; nodes: { id: string; role: string; reasons: string[] }[] };
  assert.deepEqual(plan.policy, { name: 'site-ha', version: 1 });
  assert.deepEqual(plan.nodes.map((n) => n.id), ['edge-01', 'edge-02', 'edge-03', 'edge-04', 'edge-05', 'edge-06']);
  assert.deepEqual(plan.nodes.map((n) => n.role), ['manager+worker', 'manager+worker', 'manager+worker', 'worker', 'worker', 'worker']);
  for (const n of plan.nodes) assert.ok(n.reasons.length > 0);
});

test('policy plan: a bad members file exits 2 with a clear message and no stack trace', () => {
  withTempDir((dir) => {
    const file = join(dir, 'members.json');
    writeFileSync(file, '[{"id": "a", "facts": {"cpus": 1, "memoryMB": "lots", "diskGB": 1, "arch": "amd64"}, "alive": true, "role": null}]');
    const r = pace('policy', 'plan', siteHa, '--members', file);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid members file .*members\.json/);
    assert.match(r.stderr, /\[0\]\.facts\.memoryMB: must be a non-negative integer, got string "lots"/);
    assert.doesNotMatch(r.stderr, / {4}at /);
    writeFileSync(file, 'not json');
    assert.match(pace('policy', 'plan', siteHa, '--members', file).stderr, /invalid JSON/);
    assert.equal(pace('policy', 'plan', siteHa, '--members', join(dir, 'missing.json')).code, 2);
  });
});

test('policy plan: an invalid policy exits 5', () => {
  withTempDir((dir) => {
    const file = join(dir, 'p.yaml');
    writeFileSync(file, 'apiVersion: pace/v1\n');
    const r = pace('policy', 'plan', file, '--members', members);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /missing required key 'kind'/);
  });
});

test('policy explain: step by step for one node; unknown node exits 2', () => {
  const r = pace('policy', 'explain', siteHa, '--members', members, '--node', 'edge-04');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^edge-04 → worker under policy site-ha v1/);
  assert.match(r.stdout, /Fleet:\n {2}1\. 6 member\(s\), 6 alive, 4 eligible/);
  assert.match(r.stdout, /Node edge-04:\n {2}1\. manager eligibility .* → true\n {2}2\. ranked 4 of 4 eligible/);
  const json = JSON.parse(pace('policy', 'explain', siteHa, '--members', members, '--node', 'edge-04', '--json').stdout) as { node: { role: string } };
  assert.equal(json.node.role, 'worker');
  const missing = pace('policy', 'explain', siteHa, '--members', members, '--node', 'nope');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /node 'nope' is not in/);
});
