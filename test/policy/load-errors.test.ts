/**
 * Every kind of bad policy gets a diagnostic naming the line, column and what is wrong —
 * and never a policy object.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPolicy } from '../../src/policy/load.js';
import { formatDiagnostic } from '../../src/util/source-position.js';

const GOOD = `apiVersion: pace/v1
kind: ClusterPolicy
metadata: { name: site, version: 3 }
spec:
  driver: { name: etcd, settings: { clientPort: 2379 } }
  managers:
    count:
      - { atLeast: 1, managers: 1 }
      - { atLeast: 3, managers: 3 }
    eligible: "node.memoryMB >= 2048"
    prefer: [ "node.cpus" ]
  timing: { stabilization: 10s, failureGrace: 1m30s }
`;

/** Loads `text` and returns its diagnostics as `FILE:LINE:COL: message` lines. */
function problems(text: string): string[] {
  const result = loadPolicy(text, 'p.yaml');
  assert.equal(result.ok, false, 'the policy must be rejected');
  return result.ok ? [] : result.diagnostics.map(formatDiagnostic);
}

function expectProblem(text: string, where: string, fragment: string): void {
  const lines = problems(text);
  assert.ok(
    lines.some((l) => l.startsWith(`p.yaml:${where}: `) && l.includes(fragment)),
    `expected a problem at ${where} containing "${fragment}", got:\n${lines.join('\n')}`,
  );
}

test('the reference policy loads with defaults filled in', () => {
  const result = loadPolicy(GOOD, 'p.yaml');
  assert.ok(result.ok);
  assert.equal(result.policy.name, 'site');
  assert.equal(result.policy.version, 3);
  assert.equal(result.policy.timing.stabilizationMs, 10_000);
  assert.equal(result.policy.timing.failureGraceMs, 90_000);
  assert.equal(result.policy.managers.sticky, true);
  assert.equal(result.policy.managers.alsoWorker, false);
  assert.equal(result.policy.workers.eligible.source, 'true');
  // Settings are parsed at load: the driver receives them with every default filled in.
  assert.deepEqual(result.policy.driver, {
    name: 'etcd',
    settings: { dataDir: '/var/lib/pace/etcd', clientPort: 2379, peerPort: 2380, etcdBinary: '/usr/bin/etcd', etcdctlBinary: '/usr/bin/etcdctl', clusterToken: undefined },
  });
});

test('YAML syntax errors point at the broken line', () => {
  expectProblem('apiVersion: pace/v1\nkind: [\n', '3:1', 'YAML:');
  expectProblem('a: 1\na: 2\n', '2:1', 'unique');
});

test('an empty file is not a policy', () => {
  expectProblem('', '1:1', 'empty document');
  expectProblem('# only a comment\n', '1:1', 'empty document');
});

test('unknown keys are rejected with the allowed ones listed', () => {
  expectProblem(GOOD.replace('    eligible:', '    eligable: "true"\n    eligible:'), '10:5', "unknown key 'eligable' (allowed: count, eligible");
  expectProblem(`${GOOD}extra: 1\n`, '13:1', "unknown key 'extra'");
});

test('wrong types and enum values name the field and what was given', () => {
  expectProblem(GOOD.replace('version: 3', 'version: "three"'), '3:34', 'metadata.version: must be integer, got string "three"');
  expectProblem(GOOD.replace('name: etcd', 'name: kubernetes'), '5:19', 'spec.driver.name: must be one of etcd, k3s');
  expectProblem(GOOD.replace('apiVersion: pace/v1', 'apiVersion: pace/v9'), '1:13', "apiVersion: must be 'pace/v1'");
  expectProblem(GOOD.replace('- { atLeast: 3, managers: 3 }', '- { atLeast: 3, managers: 2.5 }'), '9:33', 'must be integer');
});

test('missing required keys are named', () => {
  expectProblem(GOOD.replace('  driver: { name: etcd, settings: { clientPort: 2379 } }\n', ''), '5:3', "spec: missing required key 'driver'");
});

test('durations must look like 500ms, 10s or 1m30s', () => {
  expectProblem(GOOD.replace('stabilization: 10s', 'stabilization: 10 seconds'), '12:28', 'is not a duration');
  expectProblem(GOOD.replace('failureGrace: 1m30s', 'failureGrace: 5'), '12:47', 'must be string');
});

test('even manager counts are rejected: quorum needs odd sizes', () => {
  expectProblem(GOOD.replace('{ atLeast: 3, managers: 3 }', '{ atLeast: 3, managers: 2 }'), '9:33', 'even manager count 2');
});

test('impossible counts: more managers than nodes, unordered steps, shrinking counts', () => {
  expectProblem(GOOD.replace('{ atLeast: 3, managers: 3 }', '{ atLeast: 3, managers: 5 }'), '9:33', 'impossible count: 5 managers from 3');
  expectProblem(GOOD.replace('{ atLeast: 1, managers: 1 }', '{ atLeast: 5, managers: 5 }'), '9:20', 'increasing atLeast order (3 follows 5)');
  expectProblem(
    GOOD.replace('- { atLeast: 3, managers: 3 }', '- { atLeast: 3, managers: 3 }\n      - { atLeast: 5, managers: 1 }'),
    '10:33',
    'must not shrink',
  );
  expectProblem(GOOD.replace(/count:\n.*\n.*\n/, 'count: []\n'), '7:12', 'at least 1 item');
  expectProblem(GOOD.replace('{ atLeast: 1, managers: 1 }', '{ atLeast: 0, managers: 1 }'), '8:20', 'must be at least 1');
});

test('CEL that does not parse points at the offending character', () => {
  expectProblem(GOOD.replace('"node.memoryMB >= 2048"', '"node.memoryMB >= >= 2048"'), '10:30', 'CEL syntax error');
});

test('CEL that names an unknown field or variable is rejected', () => {
  expectProblem(GOOD.replace('node.memoryMB >= 2048', 'node.memoryMb >= 2048'), '10:20', "node has no field 'memoryMb'");
  expectProblem(GOOD.replace('"node.cpus"', '"cpus"'), '11:16', "unknown name 'cpus'");
});

test('CEL that does not type-check or returns the wrong type is rejected', () => {
  expectProblem(GOOD.replace('node.memoryMB >= 2048', "node.arch > 3"), '10:16', 'does not type-check');
  expectProblem(GOOD.replace('node.memoryMB >= 2048', 'node.memoryMB'), '10:16', 'must evaluate to a bool, got int');
  expectProblem(GOOD.replace('"node.cpus"', '"node.arch"'), '11:16', 'must evaluate to a bool, int or double, got string');
});

test('comprehension variables and labels are allowed in CEL', () => {
  const text = GOOD.replace('node.memoryMB >= 2048', "node.labels.exists(k, k == 'zone') && node.labels.all(k, node.labels[k] != '')");
  assert.ok(loadPolicy(text, 'p.yaml').ok);
});

test('several problems are all reported, in file order', () => {
  const lines = problems(GOOD.replace('version: 3', 'version: 0').replace('name: etcd', 'name: nope'));
  assert.equal(lines.length, 2);
  assert.ok(lines[0]!.startsWith('p.yaml:3:'));
  assert.ok(lines[1]!.startsWith('p.yaml:5:'));
});

test('an oversized file is refused before parsing', () => {
  const lines = problems(`${GOOD}# ${'x'.repeat(300 * 1024)}\n`);
  assert.match(lines[0]!, /larger than/);
});

test('a YAML alias bomb is refused', () => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 0; i < 8; i++) bomb.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`);
  const lines = problems(`${bomb.join('\n')}\n`);
  assert.ok(lines.length > 0);
});

test('driver settings are checked by the named driver', () => {
  const exec = GOOD.replace('{ name: etcd, settings: { clientPort: 2379 } }', '{ name: exec, settings: { hooksDir: hooks } }');
  expectProblem(exec, '5:47', 'spec.driver.settings.hooksDir: the exec driver needs hooksDir: an absolute directory path');
});
