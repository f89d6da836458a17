/** `pace keygen`, `pace policy sign`, `pace policy verify` as a user runs them: real binary, real files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, runPace, withTempDir, type PaceResult } from '../support/pace-binary.js';

const pace = (...args: string[]): PaceResult => runPace(args);
const siteHa = join(root, 'policies', 'site-ha.yaml');



test('--help on keygen, policy sign and policy verify', () => {
  for (const args of [['keygen'], ['policy', 'sign'], ['policy', 'verify']]) {
    const r = pace(...args, '--help');
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, new RegExp(`Usage: pace ${args.join(' ')}`));
    assert.match(r.stdout, /Exit codes:/);
  }
});

test('keygen writes NAME.key (0600) and NAME.pub, prints the key id and line; refuses to overwrite', () => {
  withTempDir((dir) => {
    const r = pace('keygen', '--out', join(dir, 'keys'), '--name', 'alice', '--comment', 'alice@ops');
    assert.equal(r.code, 0, r.stderr);
    const pub = readFileSync(join(dir, 'keys', 'alice.pub'), 'utf8');
    assert.match(pub, /^pace-ed25519 \S{44} alice@ops\n$/);
    assert.match(r.stdout, /^key id: +[0-9a-f]{16}$/m);
    assert.ok(r.stdout.includes(pub.trim()), 'prints the public key line');
    assert.equal(statSync(join(dir, 'keys', 'alice.key')).mode & 0o777, 0o600);
    const again = pace('keygen', '--out', join(dir, 'keys'), '--name', 'alice');
    assert.equal(again.code, 2);
    assert.match(again.stderr, /alice\.key: already exists \(use --force to replace it\)/);
    assert.equal(readFileSync(join(dir, 'keys', 'alice.pub'), 'utf8'), pub);
    const forced = pace('keygen', '--out', join(dir, 'keys'), '--name', 'alice', '--force', '--json');
    assert.equal(forced.code, 0, forced.stderr);
    const json = JSON.parse(forced.stdout) as { keyId: string; publicKey: string };
    assert.equal(readFileSync(join(dir, 'keys', 'alice.pub'), 'utf8'), `${json.publicKey}\n`);
    assert.equal(pace('keygen').code, 2, '--out is required');
  });
});

test('sign then verify: exit 0; tampered, untrusted and bad inputs exit 5 or 2 with the reason', () => {
  withTempDir((dir) => {
    assert.equal(pace('keygen', '--out', dir, '--name', 'ops').code, 0);
    assert.equal(pace('keygen', '--out', dir, '--name', 'other').code, 0);
    const env = join(dir, 'site-ha.signed.json');
    const s = pace('policy', 'sign', siteHa, '--key', join(dir, 'ops.key'), '--out', env);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /site-ha v1 signed by [0-9a-f]{16}/);
    const stdoutEnv = pace('policy', 'sign', siteHa, '--key', join(dir, 'ops.key'));
    assert.equal(stdoutEnv.code, 0);
    assert.deepEqual(JSON.parse(stdoutEnv.stdout), JSON.parse(readFileSync(env, 'utf8')), 'ed25519 is deterministic');

    const ok = pace('policy', 'verify', env, '--trusted', join(dir, 'other.pub'), join(dir, 'ops.pub'));
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /: ok \(site-ha v1, signed by [0-9a-f]{16}\)/);

    const untrusted = pace('policy', 'verify', env, '--trusted', join(dir, 'other.pub'));
    assert.equal(untrusted.code, 5);
    assert.match(untrusted.stderr, /rejected .*: untrusted-signer: signer [0-9a-f]{16} is not a trusted key/);

    const tampered = join(dir, 'tampered.json');
    const e = JSON.parse(readFileSync(env, 'utf8')) as { yaml: string };
    writeFileSync(tampered, JSON.stringify({ ...e, yaml: e.yaml.replace('memoryMB >= 2048', 'memoryMB >= 1') }));
    const bad = pace('policy', 'verify', tampered, '--trusted', join(dir, 'ops.pub'), '--json');
    assert.equal(bad.code, 5);
    assert.equal((JSON.parse(bad.stdout) as { code: string }).code, 'bad-signature');

    writeFileSync(tampered, '{"format": ');
    assert.match(pace('policy', 'verify', tampered, '--trusted', join(dir, 'ops.pub')).stderr, /malformed: envelope is not JSON/);
    assert.equal(pace('policy', 'verify', join(dir, 'missing.json'), '--trusted', join(dir, 'ops.pub')).code, 2);
    const badKey = pace('policy', 'verify', env, '--trusted', join(dir, 'ops.key'));
    assert.equal(badKey.code, 2);
    assert.match(badKey.stderr, /ops\.key:1: expected a line starting with 'pace-ed25519'/);
    assert.equal(pace('policy', 'verify', env).code, 2, '--trusted is required');
  });
});

test('policy sign: an invalid policy exits 5 and writes nothing; a bad key exits 2', () => {
  withTempDir((dir) => {
    assert.equal(pace('keygen', '--out', dir).code, 0);
    const policy = join(dir, 'bad.yaml');
    writeFileSync(policy, 'apiVersion: pace/v1\nkind: ClusterPolicy\nmetadata: { name: x, version: 1 }\nspec:\n  driver: { name: etcd }\n  managers:\n    count: [ { atLeast: 2, managers: 2 } ]\n');
    const out = join(dir, 'out.json');
    const r = pace('policy', 'sign', policy, '--key', join(dir, 'operator.key'), '--out', out);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /invalid policy .*bad\.yaml \(not signed\):\n {2}.*bad\.yaml:7:38: .*even manager count 2/);
    assert.equal(existsSync(out), false);
    assert.equal(pace('policy', 'sign', join(dir, 'nope.yaml'), '--key', join(dir, 'operator.key')).code, 5);
    const k = pace('policy', 'sign', siteHa, '--key', join(dir, 'operator.pub'));
    assert.equal(k.code, 2);
    assert.match(k.stderr, /operator\.pub: this is a public key line/);
    assert.equal(pace('policy', 'sign', siteHa, '--key', join(dir, 'none.key')).code, 2);
  });
});
