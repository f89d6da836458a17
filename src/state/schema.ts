/**
 * The cluster document's schema: TypeScript types for what PACE writes, and defensive parsers
 * for what it reads.
 *
 * Anything in the document may have been written by a buggy or hostile peer, so every reader
 * goes through a parser here. A parser never throws: an entry that does not fit is skipped and
 * the reason is reported through `SchemaIssueSink`, so one bad record cannot hide the others or
 * crash the node. Parsers are pure (no clock, no I/O).
 *
 * Strings are written as Automerge `ImmutableString` (last-writer-wins scalars, not collaborative
 * text); parsers accept both forms so a peer that wrote plain text does not break reading.
 */
import { Automerge } from './automerge-backend.js';
import type { JsonValue } from './json.js';
import { ROLES, type Role } from '../policy/types.js';

/**
 * Version of the document layout; part of the genesis change, so changing it forks clusters,
 * and of the replication topic and protocol names, so nodes of different versions never mix.
 * 2: member, verdict, role and driver records are JSON text (record-text.ts); 1 stored them as
 * nested Automerge maps.
 */
export const SCHEMA_VERSION = 2;

/** Top-level maps created by genesis. Nothing else is written at the top level. */
export const TOP_LEVEL_MAPS = ['members', 'policy', 'verdicts', 'drivers', 'roles'] as const;
export type TopLevelMap = (typeof TOP_LEVEL_MAPS)[number];

/** Hardware facts a node reports about itself. */
export interface Facts {
  cpus: number;
  memoryMB: number;
  diskGB: number;
  arch: string;
}

/** One node's membership record, written only by that node (`members[id]`). */
export interface Member {
  /** Node id (the mesh peer id); equals the map key. */
  id: string;
  /** Human-readable name (hostname by default). */
  name: string;
  /** Multiaddrs or host:port strings other nodes can use. */
  addresses: string[];
  facts: Facts;
  labels: Record<string, string>;
  /** Milliseconds since the epoch (injected clock) when the node first joined. */
  joinedAt: number;
  /** Milliseconds since the epoch when the node left gracefully, or null while a member. */
  leftAt: number | null;
  /** Raised by the node to refute a suspicion or after a restart (SWIM incarnation). */
  incarnation: number;
}

/**
 * The signed policy envelope (`policy`). Stored and read as opaque data: the signature scheme
 * and validation belong to the policy layer.
 */
export interface PolicyEnvelope {
  yaml: string;
  name: string;
  version: number;
  signature: string;
  signer: string;
}

export const VERDICT_STATUSES = ['alive', 'down', 'left'] as const;
export type VerdictStatus = (typeof VERDICT_STATUSES)[number];

/** A liveness verdict about node `verdicts[id]` (rare: confirmed transitions only). */
export interface Verdict {
  status: VerdictStatus;
  /** The subject's incarnation the verdict is about. */
  incarnation: number;
  /** Node id of the writer. */
  by: string;
  /** Milliseconds since the epoch (writer's clock). */
  at: number;
}

// Roles are the policy's roles: one vocabulary from evaluate() to the document to the CLI.
export { ROLES, type Role };

/** A node's own current role and progress (`roles[id]`); no node writes another's. */
export interface RoleRecord {
  role: Role;
  /** Free-form progress phase of the driver (e.g. "joining", "ready", "failed"). */
  phase: string;
  /** Optional human-readable detail (last error, endpoint, ...). */
  detail: string | null;
  /** Milliseconds since the epoch of the last update. */
  at: number;
  /**
   * Control-plane changes this run of the node acted on (a bootstrap or promote of itself, a
   * demote of itself, a remove of a dead member) that its driver failed, in a row; absent when
   * none. Reset by a change that succeeds and by a restart. Enough of them pass the node over
   * for a new seat, and as the actor of removes (src/roles/cluster-view.ts,
   * FAILED_CHANGES_TO_PASS_OVER).
   */
  failedChanges?: number;
}

export type { JsonValue } from './json.js';

/** Receives one line per skipped entry: where it is and why it was skipped. */
export type SchemaIssueSink = (path: string, reason: string) => void;

/** Plain object (Automerge map) check; arrays, strings and special values are not maps. */
export function isMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  if (Automerge.isImmutableString(value) || value instanceof Uint8Array || value instanceof Date) return false;
  return true;
}

/** A string written either as ImmutableString or as text, else undefined. */
export function readString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Automerge.isImmutableString(value)) return value.val;
  return undefined;
}

function finite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function nonNegativeInt(value: unknown): value is number {
  return finite(value) && Number.isInteger(value) && value >= 0;
}

/** Thrown inside a parser to reject the whole entry with a reason; caught by the parser. */
class Reject extends Error {}

function field(obj: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

function str(obj: Record<string, unknown>, key: string): string {
  const v = readString(field(obj, key));
  if (v === undefined) throw new Reject(`${key}: expected a string`);
  return v;
}

function num(obj: Record<string, unknown>, key: string, check: (v: unknown) => v is number, what: string): number {
  const v = field(obj, key);
  if (!check(v)) throw new Reject(`${key}: expected ${what}, got ${describe(v)}`);
  return v;
}

function describe(v: unknown): string {
  const s = readString(v);
  if (s !== undefined) return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function guard<T>(path: string, sink: SchemaIssueSink, parse: () => T): T | undefined {
  try {
    return parse();
  } catch (err) {
    sink(path, err instanceof Error ? err.message : String(err));
    return undefined;
  }
}

/** Parses `members[key]`; undefined (and one sink call) when it does not fit. */
export function parseMember(key: string, value: unknown, sink: SchemaIssueSink): Member | undefined {
  return guard(`members.${key}`, sink, () => {
    if (!isMap(value)) throw new Reject('expected an object');
    const id = str(value, 'id');
    if (id !== key) throw new Reject(`id ${JSON.stringify(id)} does not match its key`);
    const addressesRaw = field(value, 'addresses');
    if (!Array.isArray(addressesRaw)) throw new Reject('addresses: expected a list');
    const addresses = addressesRaw.map((a, i) => {
      const s = readString(a);
      if (s === undefined) throw new Reject(`addresses[${i}]: expected a string`);
      return s;
    });
    const factsRaw = field(value, 'facts');
    if (!isMap(factsRaw)) throw new Reject('facts: expected an object');
    const facts: Facts = {
      cpus: num(factsRaw, 'cpus', nonNegativeInt, 'a non-negative integer'),
      memoryMB: num(factsRaw, 'memoryMB', nonNegativeInt, 'a non-negative integer'),
      diskGB: num(factsRaw, 'diskGB', (v): v is number => finite(v) && v >= 0, 'a non-negative number'),
      arch: str(factsRaw, 'arch'),
    };
    const labelsRaw = field(value, 'labels');
    if (!isMap(labelsRaw)) throw new Reject('labels: expected an object');
    const labels: Record<string, string> = {};
    for (const k of Object.keys(labelsRaw).sort()) {
      const s = readString(labelsRaw[k]);
      if (s === undefined) throw new Reject(`labels.${k}: expected a string`);
      labels[k] = s;
    }
    const leftAtRaw = field(value, 'leftAt');
    if (leftAtRaw !== null && !finite(leftAtRaw)) throw new Reject(`leftAt: expected a number or null, got ${describe(leftAtRaw)}`);
    return {
      id,
      name: str(value, 'name'),
      addresses,
      facts,
      labels,
      joinedAt: num(value, 'joinedAt', finite, 'a number'),
      leftAt: leftAtRaw,
      incarnation: num(value, 'incarnation', nonNegativeInt, 'a non-negative integer'),
    };
  });
}

/** Parses the `policy` map; undefined when no policy was written yet or it does not fit. */
export function parsePolicy(value: unknown, sink: SchemaIssueSink): PolicyEnvelope | undefined {
  if (isMap(value) && Object.keys(value).length === 0) return undefined;
  return guard('policy', sink, () => {
    if (!isMap(value)) throw new Reject('expected an object');
    return {
      yaml: str(value, 'yaml'),
      name: str(value, 'name'),
      version: num(value, 'version', nonNegativeInt, 'a non-negative integer'),
      signature: str(value, 'signature'),
      signer: str(value, 'signer'),
    };
  });
}

/** Parses `verdicts[key]`. */
export function parseVerdict(key: string, value: unknown, sink: SchemaIssueSink): Verdict | undefined {
  return guard(`verdicts.${key}`, sink, () => {
    if (!isMap(value)) throw new Reject('expected an object');
    const status = str(value, 'status');
    if (!(VERDICT_STATUSES as readonly string[]).includes(status)) throw new Reject(`status: unknown ${JSON.stringify(status)}`);
    return {
      status: status as VerdictStatus,
      incarnation: num(value, 'incarnation', nonNegativeInt, 'a non-negative integer'),
      by: str(value, 'by'),
      at: num(value, 'at', finite, 'a number'),
    };
  });
}

/** Parses `roles[key]`. */
export function parseRole(key: string, value: unknown, sink: SchemaIssueSink): RoleRecord | undefined {
  return guard(`roles.${key}`, sink, () => {
    if (!isMap(value)) throw new Reject('expected an object');
    const role = str(value, 'role');
    if (!(ROLES as readonly string[]).includes(role)) throw new Reject(`role: unknown ${JSON.stringify(role)}`);
    const detailRaw = field(value, 'detail');
    const detail = detailRaw === null || detailRaw === undefined ? null : readString(detailRaw);
    if (detail === undefined) throw new Reject('detail: expected a string or null');
    const record: RoleRecord = { role: role as Role, phase: str(value, 'phase'), detail, at: num(value, 'at', finite, 'a number') };
    if (field(value, 'failedChanges') !== undefined) record.failedChanges = num(value, 'failedChanges', nonNegativeInt, 'a non-negative integer');
    return record;
  });
}

/** Maximum nesting accepted in driver records (deeper data is rejected, not truncated). */
export const MAX_JSON_DEPTH = 16;

/** Converts an Automerge value to JSON data, or throws Reject (non-JSON values, too deep). */
function toJson(value: unknown, depth: number): JsonValue {
  if (depth > MAX_JSON_DEPTH) throw new Reject(`nested deeper than ${MAX_JSON_DEPTH}`);
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Reject('non-finite number');
    return value;
  }
  const s = readString(value);
  if (s !== undefined) return s;
  if (Array.isArray(value)) return value.map((v) => toJson(v, depth + 1));
  if (isMap(value)) {
    const out: { [key: string]: JsonValue } = {};
    for (const k of Object.keys(value).sort()) out[k] = toJson(value[k], depth + 1);
    return out;
  }
  throw new Reject(`unsupported value ${describe(value)}`);
}

/** Parses one driver record `drivers[driver][key]` as JSON data. */
export function parseDriverRecord(driver: string, key: string, value: unknown, sink: SchemaIssueSink): JsonValue | undefined {
  return guard(`drivers.${driver}.${key}`, sink, () => toJson(value, 0));
}
