/** Agent config resolution: precedence, profiles, host facts, and every kind of problem. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig, type ResolveInput, type ResolvedConfig } from '../../src/config/agent-config.js';
import { DEFAULT_AGENT_CONFIG } from '../../src/config/defaults.js';
import { MEMBERSHIP_PROFILES } from '../../src/membership/profiles.js';
import { CONFIG_FIELDS } from '../../src/config/fields.js';
import { formatProblem, formatSource } from '../../src/config/sources.js';
import { formatPublicKeyLine, generateOperatorKey } from '../../src/signing/operator-key.js';

const host = { hostname: 'box-7', facts: { cpus: 4, memoryMB: 8192, diskGB: 120, arch: 'arm64' } };

function resolved(input: Omit<ResolveInput, 'host'>): ResolvedConfig {
  const r = resolveConfig({ host, ...input });
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.resolved;
}

function problems(input: Omit<ResolveInput, 'host'>): string[] {
  const r = resolveConfig({ host, ...input });
  assert.equal(r.ok, false, 'expected problems');
  return r.ok ? [] : r.problems.map(formatProblem);
}

test('nothing given: the defaults, the host name and the detected facts', () => {
  const r = resolved({});
  assert.deepEqual(r.config, { ...DEFAULT_AGENT_CONFIG, nodeName: 'box-7' });
  assert.deepEqual(r.facts, host.facts);
  assert.equal(formatSource(r.sources.nodeName!), 'host');
  assert.equal(formatSource(r.sources['facts.cpus']!), 'host');
  assert.equal(formatSource(r.sources.clusterName!), 'default');
  assert.equal(r.config.membership.probeInterval, 1000);
});

test('each layer overrides the previous: file < env < flags', () => {
  const fileText = 'nodeName: from-file\nclusterName: site-a\nlogLevel: debug\n';
  const fileOnly = resolved({ fileText, fileName: 'agent.yaml' });
  assert.equal(fileOnly.config.nodeName, 'from-file');
  assert.equal(formatSource(fileOnly.sources.nodeName!), 'agent.yaml:1:1');
  const env = { PACE_NODE_NAME: 'from-env', PACE_LOG_LEVEL: 'warn', HOME: '/root' };
  const withEnv = resolved({ fileText, fileName: 'agent.yaml', env });
  assert.equal(withEnv.config.nodeName, 'from-env');
  assert.equal(withEnv.config.clusterName, 'site-a');
  assert.equal(withEnv.config.logLevel, 'warn');
  assert.equal(formatSource(withEnv.sources.nodeName!), 'PACE_NODE_NAME');
  const all = resolved({ fileText, fileName: 'agent.yaml', env, flags: { 'node-name': 'from-flag' } });
  assert.equal(all.config.nodeName, 'from-flag');
  assert.equal(all.config.logLevel, 'warn');
  assert.equal(formatSource(all.sources.nodeName!), '--node-name');
});

test('every field can be set from each source (table round trip)', () => {
  for (const field of CONFIG_FIELDS) {
    assert.match(field.env, /^PACE_[A-Z_]+$/, field.path);
    assert.match(field.flag, /^[a-z][a-z-]*$/, field.path);
  }
  assert.equal(new Set(CONFIG_FIELDS.map((f) => f.env)).size, CONFIG_FIELDS.length, 'env names are unique');
  assert.equal(new Set(CONFIG_FIELDS.map((f) => f.flag)).size, CONFIG_FIELDS.length, 'flags are unique');
});

test('lists, labels, booleans and durations from file, env and flags', () => {
  const key = formatPublicKeyLine(generateOperatorKey('ops').publicKey);
  const fileText = [
    'listen: [/ip4/0.0.0.0/tcp/9000]',
    'bootstrap:',
    '  - /ip4/10.0.0.1/tcp/7600/p2p/12D3KooWabc',
    'mdns: { enabled: false, interface: eth0 }',
    `trustedKeys: ["${key}", /etc/pace/ops.pub]`,
    'labels: { zone: a, tier: control }',
    'membership: { probeInterval: 2s, probeTimeout: 750ms }',
    'facts: { cpus: 16, arch: amd64 }',
  ].join('\n');
  const f = resolved({ fileText });
  assert.deepEqual(f.config.listen, ['/ip4/0.0.0.0/tcp/9000']);
  assert.deepEqual(f.config.bootstrap, ['/ip4/10.0.0.1/tcp/7600/p2p/12D3KooWabc']);
  assert.deepEqual(f.config.mdns, { enabled: false, interface: 'eth0' });
  assert.deepEqual(f.config.trustedKeys, [key, '/etc/pace/ops.pub']);
  assert.deepEqual(f.config.labels, { zone: 'a', tier: 'control' });
  assert.equal(f.config.membership.probeInterval, 2000);
  assert.equal(f.config.membership.probeTimeout, 750);
  assert.deepEqual(f.facts, { cpus: 16, memoryMB: 8192, diskGB: 120, arch: 'amd64' });
  assert.equal(formatSource(f.sources['facts.cpus']!), 'config.yaml:8:10');
  assert.equal(formatSource(f.sources['facts.memoryMB']!), 'host');

  const e = resolved({ fileText, env: { PACE_BOOTSTRAP: '/ip4/10.0.0.2/tcp/1, /dns4/b.local/tcp/2', PACE_LABELS: 'zone=b,rack=r1', PACE_MDNS: 'yes', PACE_MEMORY_MB: '512' } });
  assert.deepEqual(e.config.bootstrap, ['/ip4/10.0.0.2/tcp/1', '/dns4/b.local/tcp/2']);
  assert.deepEqual(e.config.labels, { zone: 'b', rack: 'r1' }, 'labels are replaced as a whole');
  assert.equal(e.config.mdns.enabled, true);
  assert.equal(e.config.mdns.interface, 'eth0');
  assert.equal(e.facts.memoryMB, 512);

  const fl = resolved({ fileText, flags: { label: ['x=1', 'y=2,z=3'], mdns: false, listen: ['/ip6/::/tcp/1'], 'probe-interval': '3s' } });
  assert.deepEqual(fl.config.labels, { x: '1', y: '2', z: '3' });
  assert.equal(fl.config.mdns.enabled, false);
  assert.equal(formatSource(fl.sources['mdns.enabled']!), '--no-mdns');
  assert.deepEqual(fl.config.listen, ['/ip6/::/tcp/1']);
  assert.equal(fl.config.membership.probeInterval, 3000);
});

test('membership profile: unset timings follow the chosen profile; explicit ones still win', () => {
  const wan = resolved({ env: { PACE_MEMBERSHIP_PROFILE: 'wan' }, flags: { 'suspicion-mult': '9' } });
  assert.equal(wan.config.membership.profile, 'wan');
  assert.equal(wan.config.membership.probeInterval, MEMBERSHIP_PROFILES.wan.probeIntervalMs);
  assert.equal(formatSource(wan.sources['membership.probeInterval']!), 'profile wan');
  assert.equal(wan.config.membership.suspicionMult, 9);
  const local = resolved({ fileText: 'membership:\n  profile: local\n  syncInterval: 5s\n' });
  assert.equal(local.config.membership.probeTimeout, MEMBERSHIP_PROFILES.local.probeTimeoutMs);
  assert.equal(local.config.membership.syncInterval, 5000);
});

test('unknown keys in the file: position, key and a suggestion', () => {
  const text = 'nodeNmae: a\nmembership:\n  probeIntervall: 1s\nprobeTimeout: 1s\ncompletelyWrong: 1\nmdns: { enable: true }\n';
  assert.deepEqual(problems({ fileText: text, fileName: 'agent.yaml' }), [
    "agent.yaml:1:1: nodeNmae: unknown key (did you mean 'nodeName'?)",
    "agent.yaml:3:3: membership.probeIntervall: unknown key (did you mean 'probeInterval'?)",
    "agent.yaml:4:1: probeTimeout: unknown key (did you mean 'membership.probeTimeout'?)",
    'agent.yaml:5:1: completelyWrong: unknown key (allowed: nodeName, clusterName, dataDir, listen, bootstrap, networkKeyFile, trustedKeys, labels, logLevel, mdns, facts, api, membership)',
    "agent.yaml:6:9: mdns.enable: unknown key (did you mean 'enabled'?)",
  ]);
});

test('unknown environment variables and flags, with suggestions', () => {
  assert.deepEqual(problems({ env: { PACE_NODENAME: 'x', PACE_ZZZ: '1', PACE_DEBUG: '1', PACE_CONFIG: '/x', OTHER: 'ignored' } }), [
    'PACE_NODENAME: unknown environment variable (did you mean PACE_NODE_NAME?); see docs/CONFIG.md',
    'PACE_ZZZ: unknown environment variable; see docs/CONFIG.md',
  ]);
  assert.deepEqual(problems({ flags: { 'nod-name': 'x', 'log-level': 'info' } }), ['--nod-name: unknown flag (did you mean --node-name?)']);
});

test('type errors name the source and what was expected; all problems are reported together', () => {
  const text = 'nodeName: 42\napi:\n  port: 70000\nlisten: /ip4/0.0.0.0/tcp/1\nmembership: { probeInterval: 1 sec }\nlabels: { rack: 3 }\nmdns: yes\n';
  assert.deepEqual(problems({ fileText: text, fileName: 'a.yaml', env: { PACE_API_PORT: 'http', PACE_MDNS: 'maybe' }, flags: { 'log-level': 'loud', 'cpus': '0' } }), [
    'a.yaml:1:11: nodeName: must be a string, got integer 42',
    'a.yaml:3:9: api.port: must be between 0 and 65535, got 70000',
    'a.yaml:4:9: listen: must be a list of strings, got string "/ip4/0.0.0.0/tcp/1"',
    'a.yaml:5:30: membership.probeInterval: "1 sec" is not a duration (use e.g. 500ms, 1s, 1m30s)',
    "a.yaml:6:9: labels: label 'rack' must be a string, got integer 3 (quote it: '3')",
    'a.yaml:7:7: mdns: must be a map with keys enabled, interface; got string "yes"',
    'PACE_API_PORT: must be an integer, got "http"',
    'PACE_MDNS: must be true or false (also 1/0, yes/no, on/off), got "maybe"',
    '--cpus: must be between 1 and 1000000, got 0',
    '--log-level: must be one of trace, debug, info, warn, error, fatal, silent; got "loud"',
  ]);
});

test('bad values: multiaddrs, trusted key lines, label syntax, YAML syntax, non-map documents', () => {
  assert.match(problems({ env: { PACE_BOOTSTRAP: '10.0.0.1:7600' } })[0]!, /PACE_BOOTSTRAP: item 1: "10.0.0.1:7600" is not a multiaddr/);
  assert.match(problems({ flags: { 'trusted-key': ['pace-ed25519 AAAA'] } })[0]!, /--trusted-key: item 1: an ed25519 public key is 32 bytes/);
  assert.match(problems({ env: { PACE_LABELS: 'zone' } })[0]!, /PACE_LABELS: label "zone" must be key=value/);
  assert.match(problems({ fileText: 'nodeName: [a\n', fileName: 'a.yaml' })[0]!, /^a\.yaml:\d+:\d+: /);
  assert.match(problems({ fileText: 'nodeName: a\nnodeName: b\n', fileName: 'a.yaml' })[0]!, /^a\.yaml:2:1: .*[Uu]nique/);
  assert.deepEqual(problems({ fileText: '- a\n', fileName: 'a.yaml' }), ['a.yaml:1:1: the config file must be a map of settings, got a list']);
  assert.deepEqual(resolved({ fileText: '# only comments\n' }).config.clusterName, 'default');
});

test('probeTimeout must be shorter than probeInterval', () => {
  assert.deepEqual(problems({ flags: { 'probe-timeout': '2s' } }), ['--probe-timeout: must be shorter than membership.probeInterval (2s >= 1s)']);
});

test('custom defaults are honoured and never mutated', () => {
  const before = JSON.stringify(DEFAULT_AGENT_CONFIG);
  const r = resolved({ defaults: { ...DEFAULT_AGENT_CONFIG, clusterName: 'lab' }, flags: { label: ['a=b'] } });
  assert.equal(r.config.clusterName, 'lab');
  assert.equal(JSON.stringify(DEFAULT_AGENT_CONFIG), before);
});
