/**
 * Signed policies (DESIGN.md §8): the envelope an operator signs and every node verifies
 * before a policy may replace the active one. See docs/SECURITY.md.
 *
 * Envelope (JSON, exactly these fields, no others):
 *
 * ```json
 * { "format": "pace-signed-policy/v1", "name": "site-ha", "version": 3,
 *   "yaml": "<the policy YAML, verbatim>", "signer": "<key id, 16 hex>",
 *   "signature": "<base64 of the 64-byte ed25519 signature>" }
 * ```
 *
 * The signature is ed25519 (pure, no pre-hash) over the UTF-8 bytes of
 * {@link signedBytes}:
 *
 * ```text
 * pace-signed-policy/v1\n
 * name <name>\n
 * version <version in decimal>\n
 * yaml-sha256 <lowercase hex SHA-256 of the UTF-8 YAML text>\n
 * ```
 *
 * The first line separates these signatures from any other use of an operator key. The
 * name is a DNS label and the version a positive integer, so no field can smuggle a newline.
 * The YAML's own `metadata.name`/`metadata.version` must equal the signed ones, so the
 * signature binds the whole policy.
 *
 * All functions here are pure: no clock, no I/O, no exceptions for bad input.
 */
import { createHash, sign, verify } from 'node:crypto';
import { loadPolicy, type LoadResult } from '../policy/load.js';
import { NAME_PATTERN } from '../policy/schema.js';
import type { Policy } from '../policy/types.js';
import { ContentCache, deepFreeze } from '../util/content-cache.js';
import { formatDiagnostic, type Diagnostic } from '../util/source-position.js';
import { KEY_ID_HEX_DIGITS, type OperatorPrivateKey, type OperatorPublicKey } from './operator-key.js';

/** The envelope's `format` and the first line of the signed bytes. */
export const SIGNED_POLICY_FORMAT = 'pace-signed-policy/v1';
/** Largest `yaml` an envelope may carry (the policy loader's own limit). */
export const MAX_SIGNED_YAML_BYTES = 256 * 1024;
/** Largest envelope JSON text {@link parseEnvelopeJson} reads (YAML escaped in JSON, plus fields). */
export const MAX_ENVELOPE_JSON_BYTES = 2 * MAX_SIGNED_YAML_BYTES + 4096;
const SIGNATURE_BYTES = 64;
const ENVELOPE_KEYS = ['format', 'name', 'version', 'yaml', 'signer', 'signature'] as const;
const NAME = new RegExp(NAME_PATTERN);
const KEY_ID = new RegExp(`^[0-9a-f]{${KEY_ID_HEX_DIGITS}}$`);
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A signed policy as it travels (CLI output, API body, cluster document). */
export interface SignedPolicyEnvelope {
  format: typeof SIGNED_POLICY_FORMAT;
  /** The policy's `metadata.name`. */
  name: string;
  /** The policy's `metadata.version`. */
  version: number;
  /** The policy YAML, verbatim. */
  yaml: string;
  /** Key id of the signing key. */
  signer: string;
  /** Base64 ed25519 signature over {@link signedBytes}. */
  signature: string;
}

/**
 * Why a policy was not accepted. Codes are stable (logs, API, tests branch on them):
 * - `malformed`: not an envelope (not JSON, a field missing, of the wrong type or too big, an extra field)
 * - `untrusted-signer`: the signer is not one of the trusted keys
 * - `bad-signature`: the signature does not verify with the trusted key
 * - `invalid-policy`: the signed YAML is not a valid policy (see `diagnostics`)
 * - `metadata-mismatch`: the envelope's name/version differ from the YAML's metadata
 * - `stale-version`: a higher version is already active
 * - `conflicting-version`: the same version with different content is already active
 */
export type RejectionCode =
  | 'malformed'
  | 'untrusted-signer'
  | 'bad-signature'
  | 'invalid-policy'
  | 'metadata-mismatch'
  | 'stale-version'
  | 'conflicting-version';

export interface PolicyRejection {
  code: RejectionCode;
  /** One line for people, e.g. `signer 0123abcd… is not a trusted key`. */
  message: string;
  /** For `invalid-policy`: the loader's diagnostics (file is `<name> v<version>`). */
  diagnostics?: Diagnostic[];
}

/** A policy whose envelope verified: the checked policy and the envelope that carried it. */
export interface AcceptedPolicy {
  policy: Policy;
  envelope: SignedPolicyEnvelope;
}

export type VerifyResult = ({ ok: true } & AcceptedPolicy) | { ok: false; reason: PolicyRejection };
export type SignResult = { ok: true; envelope: SignedPolicyEnvelope } | { ok: false; reason: PolicyRejection };
/** `changed: false` when the candidate is the active policy again (same version, same content). */
export type ChooseResult = { ok: true; active: AcceptedPolicy; changed: boolean } | { ok: false; reason: PolicyRejection };

/**
 * What loading a signed YAML gave, by label and text: loading is pure (YAML, schema, CEL
 * compilation — milliseconds), so every holder of the same signed policy in one process may
 * share one checked Policy. A daemon verifies each policy once anyway; a simulated fleet of a
 * thousand nodes would otherwise compile the same policy a thousand times. Results are frozen.
 */
const loadedPolicies = new ContentCache<LoadResult>(16);

/** Lowercase hex SHA-256 of the UTF-8 text. */
export function yamlDigest(yaml: string): string {
  return createHash('sha256').update(yaml, 'utf8').digest('hex');
}

/** The exact bytes a signature covers (see the module comment). */
export function signedBytes(name: string, version: number, yaml: string): Buffer {
  return Buffer.from(`${SIGNED_POLICY_FORMAT}\nname ${name}\nversion ${version}\nyaml-sha256 ${yamlDigest(yaml)}\n`, 'utf8');
}

/**
 * Validates `yaml` as a policy and signs it. Refuses (`invalid-policy`, with the loader's
 * diagnostics labelled `file`) when the policy is invalid, so nothing invalid is ever signed.
 */
export function signPolicy(yaml: string, privateKey: OperatorPrivateKey, file = 'policy.yaml'): SignResult {
  const loaded = loadPolicy(yaml, file);
  if (!loaded.ok) {
    return { ok: false, reason: { code: 'invalid-policy', message: `${file} is not a valid policy`, diagnostics: loaded.diagnostics } };
  }
  const { name, version } = loaded.policy;
  const signature = sign(null, signedBytes(name, version, yaml), privateKey.key).toString('base64');
  return { ok: true, envelope: { format: SIGNED_POLICY_FORMAT, name, version, yaml, signer: privateKey.keyId, signature } };
}

/**
 * Checks an envelope (any value, e.g. parsed JSON from a peer) against the trusted keys.
 * In order: shape (`malformed`), signer (`untrusted-signer`), signature (`bad-signature`),
 * the YAML (`invalid-policy`), name and version against the YAML (`metadata-mismatch`).
 * Never throws.
 */
export function verifyPolicyEnvelope(envelope: unknown, trustedKeys: readonly OperatorPublicKey[]): VerifyResult {
  const shape = checkEnvelopeShape(envelope);
  if (typeof shape === 'string') return reject('malformed', shape);
  const env = shape;
  const candidates = trustedKeys.filter((k) => k.keyId === env.signer);
  if (candidates.length === 0) {
    const known = trustedKeys.length === 0 ? 'no keys are trusted' : `trusted: ${trustedKeys.map((k) => k.keyId).join(', ')}`;
    return reject('untrusted-signer', `signer ${env.signer} is not a trusted key (${known})`);
  }
  const data = signedBytes(env.name, env.version, env.yaml);
  const signature = Buffer.from(env.signature, 'base64');
  if (!candidates.some((k) => verifySafely(data, k, signature))) {
    return reject('bad-signature', `signature of ${env.name} v${env.version} does not verify with trusted key ${env.signer}`);
  }
  const label = `${env.name} v${env.version}`;
  const loaded = loadedPolicies.getOrCompute(`${label}\n${env.yaml}`, () => deepFreeze(loadPolicy(env.yaml, label)));
  if (!loaded.ok) {
    const first = loaded.diagnostics[0];
    return {
      ok: false,
      reason: {
        code: 'invalid-policy',
        message: `signed policy ${label} is invalid${first ? `: ${formatDiagnostic(first)}` : ''}`,
        diagnostics: loaded.diagnostics,
      },
    };
  }
  if (loaded.policy.name !== env.name || loaded.policy.version !== env.version) {
    return reject(
      'metadata-mismatch',
      `envelope says ${env.name} v${env.version} but the YAML's metadata says ${loaded.policy.name} v${loaded.policy.version}`,
    );
  }
  return { ok: true, policy: loaded.policy, envelope: env };
}

/**
 * Decides whether a verified candidate pushed by an operator replaces the active policy: the
 * highest version wins; the very same envelope again is a no-op (`changed: false`); anything
 * else at the same version — other YAML, another name, or the same YAML signed by another key —
 * is `conflicting-version` (raise the version: a re-signed policy must reach every node, and the
 * cluster only moves to a higher version); a lower one `stale-version`. With no active policy,
 * any candidate wins.
 */
export function choosePolicy(current: AcceptedPolicy | undefined, candidate: AcceptedPolicy): ChooseResult {
  if (current === undefined) return { ok: true, active: candidate, changed: true };
  const cur = current.envelope;
  const cand = candidate.envelope;
  if (cand.version > cur.version) return { ok: true, active: candidate, changed: true };
  if (cand.version < cur.version) {
    return reject('stale-version', `version ${cand.version} of ${cand.name} is older than the active ${cur.name} v${cur.version}`);
  }
  if (sameEnvelope(cand, cur)) return { ok: true, active: current, changed: false };
  const signers = cand.signer === cur.signer ? '' : `, signed by ${cur.signer}; this one by ${cand.signer}`;
  return reject(
    'conflicting-version',
    `a different policy with version ${cand.version} is already active (${cur.name} v${cur.version}, yaml-sha256 ${yamlDigest(cur.yaml).slice(0, 12)}${signers}; ` +
      `this one is ${cand.name}, yaml-sha256 ${yamlDigest(cand.yaml).slice(0, 12)}): bump the version`,
  );
}

/**
 * The one order of verified policies that every node applies to what it reads in the document
 * (so concurrent writes converge to one envelope): the higher version first, then the lower
 * YAML digest, then the lower signer key id, then the lower signature. Negative when `a` ranks
 * before `b`; 0 only for the same envelope.
 */
export function comparePolicies(a: SignedPolicyEnvelope, b: SignedPolicyEnvelope): number {
  if (a.version !== b.version) return b.version - a.version;
  const keys: readonly [string, string][] = [
    [yamlDigest(a.yaml), yamlDigest(b.yaml)],
    [a.signer, b.signer],
    [a.signature, b.signature],
    [a.name, b.name],
  ];
  for (const [x, y] of keys) if (x !== y) return x < y ? -1 : 1;
  return 0;
}

/** The same signed envelope: every field equal. */
export function sameEnvelope(a: SignedPolicyEnvelope, b: SignedPolicyEnvelope): boolean {
  return a.name === b.name && a.version === b.version && a.signer === b.signer && a.signature === b.signature && a.yaml === b.yaml;
}

/** Parses envelope JSON text; a `malformed` rejection when it is not JSON or too large. */
export function parseEnvelopeJson(text: string): { ok: true; value: unknown } | { ok: false; reason: PolicyRejection } {
  if (Buffer.byteLength(text, 'utf8') > MAX_ENVELOPE_JSON_BYTES) {
    return reject('malformed', `envelope is larger than ${MAX_ENVELOPE_JSON_BYTES} bytes`);
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return reject('malformed', `envelope is not JSON: ${(err as Error).message}`);
  }
}

/** One line for logs and the CLI: `<code>: <message>`. */
export function formatRejection(reason: PolicyRejection): string {
  return `${reason.code}: ${reason.message}`;
}

/** The envelope, or a message saying what is wrong with its shape. */
function checkEnvelopeShape(value: unknown): SignedPolicyEnvelope | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `envelope must be a JSON object, got ${describe(value)}`;
  const obj = value as Record<string, unknown>;
  const extra = Object.keys(obj).filter((k) => !(ENVELOPE_KEYS as readonly string[]).includes(k));
  if (extra.length > 0) return `unknown field(s) ${extra.map((k) => JSON.stringify(k)).join(', ')} (allowed: ${ENVELOPE_KEYS.join(', ')})`;
  for (const key of ENVELOPE_KEYS) if (!Object.hasOwn(obj, key)) return `missing field '${key}'`;
  const { format, name, version, yaml, signer, signature } = obj;
  if (format !== SIGNED_POLICY_FORMAT) return `format must be '${SIGNED_POLICY_FORMAT}', got ${describe(format)}`;
  if (typeof name !== 'string' || !NAME.test(name)) return `name must be a policy name (lowercase letters, digits and '-', at most 63), got ${describe(name)}`;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) return `version must be a positive integer, got ${describe(version)}`;
  if (typeof yaml !== 'string') return `yaml must be a string, got ${describe(yaml)}`;
  if (Buffer.byteLength(yaml, 'utf8') > MAX_SIGNED_YAML_BYTES) return `yaml is larger than ${MAX_SIGNED_YAML_BYTES} bytes`;
  if (typeof signer !== 'string' || !KEY_ID.test(signer)) return `signer must be a key id (${KEY_ID_HEX_DIGITS} lowercase hex digits), got ${describe(signer)}`;
  if (typeof signature !== 'string' || signature.length > 200 || !BASE64.test(signature) || Buffer.from(signature, 'base64').length !== SIGNATURE_BYTES) {
    return `signature must be the base64 of ${SIGNATURE_BYTES} bytes, got ${describe(signature)}`;
  }
  return { format, name, version, yaml, signer, signature };
}

function verifySafely(data: Buffer, key: OperatorPublicKey, signature: Buffer): boolean {
  try {
    return verify(null, data, key.key, signature);
  } catch {
    return false;
  }
}

function reject(code: RejectionCode, message: string): { ok: false; reason: PolicyRejection } {
  return { ok: false, reason: { code, message } };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}
