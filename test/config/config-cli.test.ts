/** `pace config print` as a user runs it: real binary, real files and environment. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPace, withTempDir } from '../support/pace-binary.js';

const pace = runPace;



interface PrintJson {
  config: { nodeName: string; clusterName: string; networkKeyFile: string; membership: { probeInterval: string }; facts: { cpus: number } };
  sources?: Record<string, string>;
}

test('config print --help lists the config flags and exit codes', () => {
  const r = pace(['config', 'print', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--node-name <name>/);
  assert.match(r.stdout, /--no-mdns/);
  assert.match(r.stdout, /PACE_BOOTSTRAP/);
  assert.match(r.stdout, /Exit codes: 0 ok, 2/);
});

test('config print --json --sources: file < env < flags, durations as text, key file path only', () => {
  withTempDir((dir) => {
    const keyFile = join(dir, 'network.key');
    writeFileSync(keyFile, 'SECRET-NETWORK-KEY');
    const cfg = join(dir, 'agent.yaml');
    writeFileSync(cfg, `nodeName: file-node\nclusterName: file-cluster\nnetworkKeyFile: ${keyFile}\nmembership:\n  probeInterval: 2s\n`);
    const r = pace(['config', 'print', '--config', cfg, '--json', '--sources', '--cluster-name', 'flag-cluster', '--cpus', '3'], { PACE_NODE_NAME: 'env-node', PACE_CLUSTER_NAME: 'env-cluster' });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /SECRET-NETWORK-KEY/);
    const json = JSON.parse(r.stdout) as PrintJson;
    assert.equal(json.config.nodeName, 'env-node');
    assert.equal(json.config.clusterName, 'flag-cluster');
    assert.equal(json.config.networkKeyFile, keyFile);
    assert.equal(json.config.membership.probeInterval, '2s');
    assert.equal(json.config.facts.cpus, 3);
    assert.equal(json.sources?.nodeName, 'PACE_NODE_NAME');
    assert.equal(json.sources?.clusterName, '--cluster-name');
    assert.equal(json.sources?.['membership.probeInterval'], `${cfg}:5:3`);
    assert.equal(json.sources?.['facts.memoryMB'], 'host');
    assert.equal(json.sources?.logLevel, 'default');
  });
});

test('config print reads PACE_CONFIG; prints YAML by default and a table with --sources', () => {
  withTempDir((dir) => {
    const cfg = join(dir, 'agent.yaml');
    writeFileSync(cfg, 'clusterName: via-env-file\n');
    const r = pace(['config', 'print'], { PACE_CONFIG: cfg });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^clusterName: via-env-file$/m);
    assert.match(r.stdout, /^ {2}probeInterval: 1s$/m);
    const t = pace(['config', 'print', '--sources'], { PACE_CONFIG: cfg });
    assert.match(t.stdout, /^KEY\s+VALUE\s+SOURCE$/m);
    assert.match(t.stdout, new RegExp(`^clusterName\\s+"via-env-file"\\s+${cfg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:1$`, 'm'));
  });
});

test('config problems exit 2 and list every one; a missing config file is named', () => {
  withTempDir((dir) => {
    const cfg = join(dir, 'agent.yaml');
    writeFileSync(cfg, 'nodeNmae: x\n');
    const r = pace(['config', 'print', '--config', cfg], { PACE_LOG_LEVL: 'debug' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid configuration:/);
    assert.match(r.stderr, /agent\.yaml:1:1: nodeNmae: unknown key \(did you mean 'nodeName'\?\)/);
    assert.match(r.stderr, /PACE_LOG_LEVL: unknown environment variable \(did you mean PACE_LOG_LEVEL\?\)/);
    const missing = pace(['config', 'print', '--config', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.yaml: cannot read config: no such file/);
    const flag = pace(['config', 'print', '--node-nam', 'x']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /unknown option '--node-nam'/);
  });
});
