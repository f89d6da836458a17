/**
 * The table of configuration fields: for each one its key in the config file, its
 * `PACE_*` environment variable, its command-line flag, its kind (which decides how text is
 * parsed and checked) and its documentation. The file reader, the environment and flag
 * readers, `pace config print`, the JSON Schema and docs/CONFIG.md all follow this table.
 *
 * Lists and label maps are replaced as a whole by a higher-precedence source, never merged.
 */
import { parseDuration } from '../policy/duration.js';
import { LABEL_KEY_PATTERN } from '../policy/schema.js';
import { KeyFormatError, parsePublicKeyLine, PUBLIC_KEY_TYPE } from '../signing/operator-key.js';
import { LOG_LEVELS, MEMBERSHIP_PROFILE_NAMES } from './types.js';

/** A parsed value of one field (durations already in milliseconds). */
export type ConfigValue = string | number | boolean | string[] | Record<string, string>;

export type FieldKind =
  | { type: 'string'; pattern?: RegExp; what?: string; allowEmpty: boolean }
  | { type: 'int'; min: number; max: number }
  | { type: 'bool' }
  | { type: 'duration' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'list'; item: 'multiaddr' | 'trusted-key' }
  | { type: 'labels' };

export interface FieldSpec {
  /** Dotted key in the config file, e.g. `membership.probeInterval`. */
  path: string;
  kind: FieldKind;
  /** Environment variable. */
  env: string;
  /** Flag name without dashes (`node-name`); booleans also get `--no-<flag>`. */
  flag: string;
  /** Placeholder in `--help` (`<name>`), '' for booleans. */
  arg: string;
  /** One line for --help, docs and the schema. */
  doc: string;
}

const NODE_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,62})$/;
const LABEL_KEY = new RegExp(LABEL_KEY_PATTERN);
const MULTIADDR = /^\/(ip4|ip6|dns|dns4|dns6|dnsaddr|unix)\/[^\s]+$/;
const HOST = /^[A-Za-z0-9.:[\]_-]+$/;

const str = (allowEmpty: boolean, pattern?: RegExp, what?: string): FieldKind => ({ type: 'string', allowEmpty, ...(pattern ? { pattern } : {}), ...(what ? { what } : {}) });

export const CONFIG_FIELDS: readonly FieldSpec[] = [
  { path: 'nodeName', kind: str(true, NODE_NAME, 'a node name (letters, digits, ".", "_", "-"; at most 63)'), env: 'PACE_NODE_NAME', flag: 'node-name', arg: '<name>', doc: "this node's id in the cluster ('' = the host name)" },
  { path: 'clusterName', kind: str(false, NODE_NAME, 'a cluster name (letters, digits, ".", "_", "-"; at most 63)'), env: 'PACE_CLUSTER_NAME', flag: 'cluster-name', arg: '<name>', doc: 'nodes only join peers with the same cluster name' },
  { path: 'dataDir', kind: str(false), env: 'PACE_DATA_DIR', flag: 'data-dir', arg: '<dir>', doc: 'directory for the node key, saved cluster document and API token' },
  { path: 'listen', kind: { type: 'list', item: 'multiaddr' }, env: 'PACE_LISTEN', flag: 'listen', arg: '<multiaddr>', doc: 'libp2p listen multiaddrs' },
  { path: 'bootstrap', kind: { type: 'list', item: 'multiaddr' }, env: 'PACE_BOOTSTRAP', flag: 'bootstrap', arg: '<multiaddr>', doc: 'peers to dial at start (/ip4/…/tcp/…/p2p/<peer id>)' },
  { path: 'mdns.enabled', kind: { type: 'bool' }, env: 'PACE_MDNS', flag: 'mdns', arg: '', doc: 'find peers on the local link by mDNS' },
  { path: 'mdns.interface', kind: str(true), env: 'PACE_MDNS_INTERFACE', flag: 'mdns-interface', arg: '<name>', doc: "network interface for mDNS ('' = all)" },
  { path: 'networkKeyFile', kind: str(true), env: 'PACE_NETWORK_KEY_FILE', flag: 'network-key-file', arg: '<file>', doc: "pre-shared network key file (libp2p pnet; '' = open network); only the path is ever printed" },
  { path: 'trustedKeys', kind: { type: 'list', item: 'trusted-key' }, env: 'PACE_TRUSTED_KEYS', flag: 'trusted-key', arg: '<key|file>', doc: "trusted operator keys: 'pace-ed25519 …' lines or .pub file paths" },
  { path: 'facts.cpus', kind: { type: 'int', min: 1, max: 1_000_000 }, env: 'PACE_CPUS', flag: 'cpus', arg: '<n>', doc: 'CPU count reported to the policy (default: detected)' },
  { path: 'facts.memoryMB', kind: { type: 'int', min: 0, max: Number.MAX_SAFE_INTEGER }, env: 'PACE_MEMORY_MB', flag: 'memory-mb', arg: '<n>', doc: 'memory in MB reported to the policy (default: detected)' },
  { path: 'facts.diskGB', kind: { type: 'int', min: 0, max: Number.MAX_SAFE_INTEGER }, env: 'PACE_DISK_GB', flag: 'disk-gb', arg: '<n>', doc: 'disk in GB (of dataDir) reported to the policy (default: detected)' },
  { path: 'facts.arch', kind: str(false, /^[a-z0-9_-]{1,32}$/, 'an architecture name such as amd64, arm64'), env: 'PACE_ARCH', flag: 'arch', arg: '<arch>', doc: 'architecture reported to the policy (default: detected, Go/OCI names)' },
  { path: 'labels', kind: { type: 'labels' }, env: 'PACE_LABELS', flag: 'label', arg: '<key=value>', doc: 'labels the policy can select on (node.labels.<key>)' },
  { path: 'api.host', kind: str(false, HOST, 'a host name or IP address'), env: 'PACE_API_HOST', flag: 'api-host', arg: '<host>', doc: 'address of the local HTTP API' },
  { path: 'api.port', kind: { type: 'int', min: 0, max: 65535 }, env: 'PACE_API_PORT', flag: 'api-port', arg: '<port>', doc: 'port of the local HTTP API (0 = any free port)' },
  { path: 'api.socket', kind: str(true), env: 'PACE_API_SOCKET', flag: 'api-socket', arg: '<path>', doc: "serve the API on this unix socket instead of HTTP ('' = HTTP)" },
  { path: 'logLevel', kind: { type: 'enum', values: LOG_LEVELS }, env: 'PACE_LOG_LEVEL', flag: 'log-level', arg: '<level>', doc: 'log level' },
  { path: 'membership.profile', kind: { type: 'enum', values: MEMBERSHIP_PROFILE_NAMES }, env: 'PACE_MEMBERSHIP_PROFILE', flag: 'membership-profile', arg: '<profile>', doc: 'timing profile the other membership settings default to' },
  { path: 'membership.probeInterval', kind: { type: 'duration' }, env: 'PACE_PROBE_INTERVAL', flag: 'probe-interval', arg: '<duration>', doc: 'time between probes of one random member' },
  { path: 'membership.probeTimeout', kind: { type: 'duration' }, env: 'PACE_PROBE_TIMEOUT', flag: 'probe-timeout', arg: '<duration>', doc: 'wait for a direct ack before probing indirectly' },
  { path: 'membership.indirectProbes', kind: { type: 'int', min: 0, max: 16 }, env: 'PACE_INDIRECT_PROBES', flag: 'indirect-probes', arg: '<n>', doc: 'members asked to probe indirectly' },
  { path: 'membership.suspicionMult', kind: { type: 'int', min: 1, max: 100 }, env: 'PACE_SUSPICION_MULT', flag: 'suspicion-mult', arg: '<n>', doc: 'suspicion lasts at least suspicionMult * max(1, log10 N) * probeInterval' },
  { path: 'membership.syncInterval', kind: { type: 'duration' }, env: 'PACE_SYNC_INTERVAL', flag: 'sync-interval', arg: '<duration>', doc: 'time between full document syncs with a random peer' },
];

/** `PACE_*` variables that are not config fields (and so are not "unknown"). */
export const NON_CONFIG_ENV: readonly string[] = ['PACE_CONFIG', 'PACE_DEBUG'];

export const FIELD_BY_PATH: ReadonlyMap<string, FieldSpec> = new Map(CONFIG_FIELDS.map((f) => [f.path, f]));

/** Group keys (maps of fields) in the file: `mdns`, `facts`, `api`, `membership`. */
export const CONFIG_GROUPS: readonly string[] = [...new Set(CONFIG_FIELDS.filter((f) => f.path.includes('.')).map((f) => f.path.split('.')[0] ?? ''))];

/** A value, or the message saying what is wrong with it. */
export type Parsed = { ok: true; value: ConfigValue } | { ok: false; message: string };

/** Checks a value from the YAML file (already converted to plain JS). */
export function fromYaml(field: FieldSpec, raw: unknown): Parsed {
  const kind = field.kind;
  switch (kind.type) {
    case 'string':
      return typeof raw === 'string' ? checkString(kind, raw) : typeError('a string', raw);
    case 'int':
      return typeof raw === 'number' ? checkInt(kind, raw) : typeError('an integer', raw);
    case 'bool':
      return typeof raw === 'boolean' ? ok(raw) : typeError('true or false', raw);
    case 'duration':
      return typeof raw === 'string' ? checkDuration(raw) : typeError("a duration such as '1s' or '500ms'", raw);
    case 'enum':
      return typeof raw === 'string' && kind.values.includes(raw) ? ok(raw) : { ok: false, message: `must be one of ${kind.values.join(', ')}; got ${describe(raw)}` };
    case 'list': {
      if (!Array.isArray(raw)) return typeError('a list of strings', raw);
      return checkList(kind.item, raw);
    }
    case 'labels': {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return typeError('a map of label keys to string values', raw);
      const out: Record<string, string> = {};
      for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof value !== 'string') return { ok: false, message: `label '${key}' must be a string, got ${describe(value)} (quote it: '${String(value)}')` };
        const bad = checkLabel(key, value);
        if (bad) return { ok: false, message: bad };
        out[key] = value;
      }
      return ok(out);
    }
  }
}

/**
 * Checks a value given as text (an environment variable, or one flag occurrence; repeated
 * flags arrive as several texts). Lists are comma-separated; labels are `k=v,k=v`; booleans
 * are true/false, 1/0, yes/no, on/off.
 */
export function fromText(field: FieldSpec, texts: readonly string[]): Parsed {
  const kind = field.kind;
  const text = texts[texts.length - 1] ?? '';
  switch (kind.type) {
    case 'string':
      return checkString(kind, text);
    case 'int':
      return /^-?[0-9]+$/.test(text.trim()) ? checkInt(kind, Number(text.trim())) : { ok: false, message: `must be an integer, got ${JSON.stringify(text)}` };
    case 'bool': {
      const t = text.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(t)) return ok(true);
      if (['false', '0', 'no', 'off'].includes(t)) return ok(false);
      return { ok: false, message: `must be true or false (also 1/0, yes/no, on/off), got ${JSON.stringify(text)}` };
    }
    case 'duration':
      return checkDuration(text.trim());
    case 'enum':
      return kind.values.includes(text.trim()) ? ok(text.trim()) : { ok: false, message: `must be one of ${kind.values.join(', ')}; got ${JSON.stringify(text)}` };
    case 'list':
      return checkList(kind.item, splitList(texts));
    case 'labels': {
      const out: Record<string, string> = {};
      for (const item of splitList(texts)) {
        const eq = item.indexOf('=');
        if (eq <= 0) return { ok: false, message: `label ${JSON.stringify(item)} must be key=value` };
        const key = item.slice(0, eq).trim();
        const value = item.slice(eq + 1).trim();
        const bad = checkLabel(key, value);
        if (bad) return { ok: false, message: bad };
        out[key] = value;
      }
      return ok(out);
    }
  }
}

function splitList(texts: readonly string[]): string[] {
  return texts.flatMap((t) => t.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

function checkString(kind: Extract<FieldKind, { type: 'string' }>, text: string): Parsed {
  if (text === '') return kind.allowEmpty ? ok('') : { ok: false, message: 'must not be empty' };
  if (kind.pattern && !kind.pattern.test(text)) return { ok: false, message: `must be ${kind.what ?? `text matching ${String(kind.pattern)}`}, got ${JSON.stringify(text)}` };
  return ok(text);
}

function checkInt(kind: Extract<FieldKind, { type: 'int' }>, n: number): Parsed {
  if (!Number.isSafeInteger(n)) return { ok: false, message: `must be an integer, got ${n}` };
  if (n < kind.min || n > kind.max) return { ok: false, message: `must be between ${kind.min} and ${kind.max}, got ${n}` };
  return ok(n);
}

function checkDuration(text: string): Parsed {
  const ms = parseDuration(text);
  if (ms === undefined) return { ok: false, message: `${JSON.stringify(text)} is not a duration (use e.g. 500ms, 1s, 1m30s)` };
  if (ms <= 0) return { ok: false, message: 'must be longer than 0' };
  return ok(ms);
}

function checkList(item: 'multiaddr' | 'trusted-key', raw: readonly unknown[]): Parsed {
  const out: string[] = [];
  for (const [i, value] of raw.entries()) {
    if (typeof value !== 'string') return { ok: false, message: `item ${i + 1} must be a string, got ${describe(value)}` };
    if (item === 'multiaddr' && !MULTIADDR.test(value)) {
      return { ok: false, message: `item ${i + 1}: ${JSON.stringify(value)} is not a multiaddr (e.g. /ip4/192.168.1.10/tcp/7600)` };
    }
    if (item === 'trusted-key') {
      if (value.trim() === '') return { ok: false, message: `item ${i + 1} is empty` };
      if (value.trimStart().startsWith(PUBLIC_KEY_TYPE)) {
        try {
          parsePublicKeyLine(value, `item ${i + 1}`);
        } catch (err) {
          if (err instanceof KeyFormatError) return { ok: false, message: err.message };
          throw err;
        }
      }
    }
    out.push(value);
  }
  return ok(out);
}

function checkLabel(key: string, value: string): string | undefined {
  if (!LABEL_KEY.test(key)) return `${JSON.stringify(key)} is not a valid label key (letters, digits, '.', '_', '/', '-'; at most 63)`;
  if (value.length > 253) return `label '${key}' is longer than 253 characters`;
  return undefined;
}

function ok(value: ConfigValue): Parsed {
  return { ok: true, value };
}

function typeError(expected: string, raw: unknown): Parsed {
  return { ok: false, message: `must be ${expected}, got ${describe(raw)}` };
}

/** `string "x"`, `integer 3`, `a list`, `a map`, `null`. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'number') return Number.isInteger(value) ? `integer ${value}` : `number ${value}`;
  if (typeof value === 'boolean') return `boolean ${value}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}
