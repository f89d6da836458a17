/** Signing and verifying policy envelopes, and choosing between verified policies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { packageRoot } from '../../src/cli/package-info.js';
import { generateOperatorKey } from '../../src/signing/operator-key.js';
import {
  choosePolicy,
  comparePolicies,
  parseEnvelopeJson,
  signedBytes,
  signPolicy,
  verifyPolicyEnvelope,
  type AcceptedPolicy,
  type SignedPolicyEnvelope,
} from '../../src/signing/signed-policy.js';
import { sign } from 'node:crypto';

const siteHa = readFileSync(join(packageRoot(), 'policies', 'site-ha.yaml'), 'utf8');
const operator = generateOperatorKey('ops');
const stranger = generateOperatorKey('stranger');
const trusted = [operator.publicKey];

function signed(yaml: string, key = operator): SignedPolicyEnvelope {
  const r = signPolicy(yaml, key);
  if (!r.ok) throw new Error(JSON.stringify(r.reason));
  return r.envelope;
}

function accepted(yaml: string): AcceptedPolicy {
  const r = verifyPolicyEnvelope(signed(yaml), trusted);
  if (!r.ok) throw new Error(JSON.stringify(r.reason));
  return { policy: r.policy, envelope: r.envelope };
}

const withVersion = (version: number, extra = ''): string => siteHa.replace('version: 1', `version: ${version}`) + extra;

/** Re-signs arbitrary envelope fields with the trusted key (what a compromised signer could send). */
function resign(name: string, version: number, yaml: string): SignedPolicyEnvelope {
  const signature = sign(null, signedBytes(name, version, yaml), operator.key).toString('base64');
  return { format: 'pace-signed-policy/v1', name, version, yaml, signer: operator.keyId, signature };
}

test('sign then verify round-trips: the policy and the exact envelope come back', () => {
  const env = signed(siteHa);
  assert.equal(env.format, 'pace-signed-policy/v1');
  assert.equal(env.name, 'site-ha');
  assert.equal(env.version, 1);
  assert.equal(env.signer, operator.keyId);
  assert.equal(env.yaml, siteHa);
  const r = verifyPolicyEnvelope(JSON.parse(JSON.stringify(env)), trusted);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.reason));
  assert.equal(r.policy.name, 'site-ha');
  assert.deepEqual(r.envelope, env);
});

test('the signed bytes are exactly the documented canonical string', () => {
  const bytes = signedBytes('site-ha', 3, 'abc').toString('utf8');
  assert.equal(bytes, 'pace-signed-policy/v1\nname site-ha\nversion 3\nyaml-sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n');
});

test('signPolicy refuses an invalid policy with the loader diagnostics', () => {
  const r = signPolicy('apiVersion: pace/v1\n', operator, 'bad.yaml');
  assert.equal(r.ok, false);
  assert.ok(!r.ok);
  assert.equal(r.reason.code, 'invalid-policy');
  assert.match(r.reason.diagnostics?.map((d) => `${d.file}:${d.line}: ${d.message}`).join('\n') ?? '', /bad\.yaml:1: .*missing required key 'kind'/);
});

test('tampered YAML is a bad signature', () => {
  const env = signed(siteHa);
  const r = verifyPolicyEnvelope({ ...env, yaml: env.yaml.replace('atLeast: 7, managers: 5', 'atLeast: 7, managers: 7') }, trusted);
  assert.ok(!r.ok);
  assert.equal(r.reason.code, 'bad-signature');
});

test('tampered version or name is a bad signature', () => {
  const env = signed(siteHa);
  for (const tampered of [{ ...env, version: 2 }, { ...env, name: 'site-hb' }]) {
    const r = verifyPolicyEnvelope(tampered, trusted);
    assert.ok(!r.ok);
    assert.equal(r.reason.code, 'bad-signature');
  }
});

test('a signature from an untrusted key is rejected, also when it claims a trusted key id', () => {
  const env = signed(siteHa, stranger);
  const r = verifyPolicyEnvelope(env, trusted);
  assert.ok(!r.ok);
  assert.equal(r.reason.code, 'untrusted-signer');
  assert.match(r.reason.message, new RegExp(`signer ${stranger.keyId} is not a trusted key \\(trusted: ${operator.keyId}\\)`));
  const forged = verifyPolicyEnvelope({ ...env, signer: operator.keyId }, trusted);
  assert.ok(!forged.ok);
  assert.equal(forged.reason.code, 'bad-signature');
  const none = verifyPolicyEnvelope(signed(siteHa), []);
  assert.ok(!none.ok);
  assert.match(none.reason.message, /no keys are trusted/);
});

test('a valid signature over invalid YAML is invalid-policy with diagnostics', () => {
  const r = verifyPolicyEnvelope(resign('x', 1, 'apiVersion: pace/v1\nkind: ClusterPolicy\n'), trusted);
  assert.ok(!r.ok);
  assert.equal(r.reason.code, 'invalid-policy');
  assert.match(r.reason.message, /signed policy x v1 is invalid: x v1:1:1: .*missing required key 'metadata'/);
  assert.ok((r.reason.diagnostics?.length ?? 0) > 0);
  const notYaml = verifyPolicyEnvelope(resign('x', 1, 'a: [\n'), trusted);
  assert.ok(!notYaml.ok);
  assert.equal(notYaml.reason.code, 'invalid-policy');
});

test('signed name/version that differ from the YAML metadata are rejected', () => {
  const r = verifyPolicyEnvelope(resign('site-ha', 9, siteHa), trusted);
  assert.ok(!r.ok);
  assert.equal(r.reason.code, 'metadata-mismatch');
  assert.match(r.reason.message, /envelope says site-ha v9 but the YAML's metadata says site-ha v1/);
  const n = verifyPolicyEnvelope(resign('other', 1, siteHa), trusted);
  assert.ok(!n.ok);
  assert.equal(n.reason.code, 'metadata-mismatch');
});

test('malformed envelopes name what is wrong', () => {
  const env = signed(siteHa);
  const cases: [unknown, RegExp][] = [
    [null, /must be a JSON object, got null/],
    [[env], /must be a JSON object, got a list/],
    [{ ...env, extra: 1 }, /unknown field\(s\) "extra"/],
    [{ ...env, signature: undefined }, /signature must be/],
    [(({ yaml: _y, ...rest }) => rest)(env), /missing field 'yaml'/],
    [{ ...env, format: 'pace-signed-policy/v2' }, /format must be 'pace-signed-policy\/v1'/],
    [{ ...env, version: 1.5 }, /version must be a positive integer, got number 1.5/],
    [{ ...env, version: '1' }, /version must be a positive integer, got "1"/],
    [{ ...env, version: 0 }, /version must be a positive integer/],
    [{ ...env, name: 'Bad\nName' }, /name must be a policy name/],
    [{ ...env, yaml: 7 }, /yaml must be a string/],
    [{ ...env, yaml: 'x'.repeat(256 * 1024 + 1) }, /yaml is larger than 262144 bytes/],
    [{ ...env, signer: 'ABC' }, /signer must be a key id/],
    [{ ...env, signature: 'AAAA' }, /signature must be the base64 of 64 bytes/],
    [{ ...env, signature: '!'.repeat(88) }, /signature must be the base64/],
  ];
  for (const [value, message] of cases) {
    const r = verifyPolicyEnvelope(value, trusted);
    assert.ok(!r.ok, String(message));
    assert.equal(r.reason.code, 'malformed', String(message));
    assert.match(r.reason.message, message);
  }
  const notJson = parseEnvelopeJson('{"format":');
  assert.ok(!notJson.ok);
  assert.equal(notJson.reason.code, 'malformed');
});

test('fuzz: any JSON value, or a mutated envelope, is rejected with a reason and never throws', () => {
  const env = signed(siteHa);
  const mutated = fc.record({
    key: fc.constantFrom('format', 'name', 'version', 'yaml', 'signer', 'signature', 'extra'),
    value: fc.jsonValue(),
  }).map(({ key, value }) => ({ ...env, [key]: value }) as unknown);
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue(), mutated, fc.anything()), (value) => {
      const r = verifyPolicyEnvelope(value, trusted);
      if (r.ok) {
        // only the untouched envelope (a mutation that kept a field's value) may pass
        assert.deepEqual(r.envelope, env);
        return;
      }
      assert.ok(r.reason.code.length > 0 && r.reason.message.length > 0);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.string(), (text) => {
      const p = parseEnvelopeJson(text);
      const r = p.ok ? verifyPolicyEnvelope(p.value, trusted) : p;
      assert.equal(r.ok, false);
    }),
  );
});

test('comparePolicies: one total order — version, then yaml digest, then signer, then signature', () => {
  const a = signed(withVersion(3));
  const b = signed(withVersion(3), stranger);
  const c = signed(withVersion(3, '# other\n'));
  const v4 = signed(withVersion(4, '# other\n'));
  for (const [x, y] of [[a, b], [a, c], [b, c], [a, v4]] as const) {
    assert.equal(Math.sign(comparePolicies(x, y)), -Math.sign(comparePolicies(y, x)), 'antisymmetric');
    assert.notEqual(comparePolicies(x, y), 0, 'only the same envelope ties');
  }
  assert.ok(comparePolicies(v4, a) < 0, 'a higher version ranks first');
  assert.equal(comparePolicies(a, { ...a }), 0);
  assert.equal(Math.sign(comparePolicies(a, b)), a.signer < b.signer ? -1 : 1, 'the same YAML: the lower signer first');
});

test('choosePolicy: anything beats nothing, higher versions win, lower are stale', () => {
  const v1 = accepted(withVersion(1));
  const v2 = accepted(withVersion(2));
  assert.deepEqual(choosePolicy(undefined, v1), { ok: true, active: v1, changed: true });
  assert.deepEqual(choosePolicy(v1, v2), { ok: true, active: v2, changed: true });
  const stale = choosePolicy(v2, v1);
  assert.ok(!stale.ok);
  assert.equal(stale.reason.code, 'stale-version');
  assert.match(stale.reason.message, /version 1 of site-ha is older than the active site-ha v2/);
});

test('choosePolicy: the same envelope again is a no-op; other content, or the same YAML re-signed by another key, at that version conflicts', () => {
  const v2 = accepted(withVersion(2));
  const again = accepted(withVersion(2));
  assert.deepEqual(choosePolicy(v2, again), { ok: true, active: v2, changed: false });
  const resigned = verifyPolicyEnvelope(signed(withVersion(2), stranger), [operator.publicKey, stranger.publicKey]);
  assert.ok(resigned.ok);
  const r2 = choosePolicy(v2, resigned);
  assert.ok(!r2.ok, 'accepting it would change nothing, yet tell the operator the new signature is in force');
  assert.equal(r2.reason.code, 'conflicting-version');
  assert.match(r2.reason.message, /signed by .*; this one by /);
  const other = accepted(withVersion(2, '# a change\n'));
  const r = choosePolicy(v2, other);
  assert.ok(!r.ok);
  assert.equal(r.reason.code, 'conflicting-version');
  assert.match(r.reason.message, /a different policy with version 2 is already active .*bump the version/);
});

test('property: choosePolicy keeps the highest version regardless of arrival order', () => {
  const byVersion = new Map([1, 2, 3, 4, 5].map((v) => [v, accepted(withVersion(v))]));
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 12 }), (order) => {
      let active: AcceptedPolicy | undefined;
      for (const v of order) {
        const r = choosePolicy(active, byVersion.get(v)!);
        if (r.ok) active = r.active;
        else assert.equal(r.reason.code, 'stale-version');
      }
      assert.equal(active?.envelope.version, Math.max(...order));
    }),
  );
});
