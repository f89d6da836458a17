/**
 * What a cluster document holds, parsed into PACE's types: one immutable snapshot per set of
 * heads.
 *
 * A snapshot is built either in full ({@link readView}) or from the previous snapshot of the same
 * document ({@link advanceView}): Automerge diffs the two head sets, and only the entries the diff
 * touches are read and parsed again. With a thousand members, a full read reads a thousand
 * records; an advance after one member's change reads one. A record is JSON text (record-text.ts),
 * so a record already parsed anywhere in the process is not parsed again. Both give the
 * same snapshot — each entry is parsed from its own value alone — which test/state/document-view
 * checks against random histories.
 *
 * Snapshots are never modified after they are built (an advance copies what it changes), so one
 * may be shared by every holder of the same heads.
 */
import type { Backend } from './automerge-backend.js';
import {
  isMap,
  parseDriverRecord,
  parseMember,
  parsePolicy,
  parseRole,
  parseVerdict,
  readString,
  type JsonValue,
  type Member,
  type PolicyEnvelope,
  type RoleRecord,
  type SchemaIssueSink,
  type TopLevelMap,
  type Verdict,
} from './schema.js';
import { deepFreeze } from '../util/content-cache.js';
import { parsedRecord } from './record-text.js';

export type DriverRecords = Readonly<Record<string, JsonValue>>;

export interface DocumentView {
  /** Sorted. */
  readonly heads: readonly string[];
  /** Valid entries only; values frozen. */
  readonly members: ReadonlyMap<string, Member>;
  readonly verdicts: ReadonlyMap<string, Verdict>;
  readonly roles: ReadonlyMap<string, RoleRecord>;
  readonly policy: PolicyEnvelope | undefined;
  /** Drivers whose entry is a map, with their valid records (keys sorted, frozen). */
  readonly drivers: ReadonlyMap<string, DriverRecords>;
}

/** The top-level maps whose entries are records keyed by node id. */
export type KeyedMap = 'members' | 'verdicts' | 'roles';
type Parser<T> = (key: string, value: unknown, sink: SchemaIssueSink) => T | undefined;

const PARSERS: { readonly [K in KeyedMap]: Parser<unknown> } = { members: parseMember, verdicts: parseVerdict, roles: parseRole };

/** Reads every entry: the first snapshot of a document, or one whose previous snapshot is gone. */
export function readView(backend: Backend, heads: readonly string[], sink: SchemaIssueSink): DocumentView {
  return {
    heads,
    members: readKeyed(backend, 'members', sink) as Map<string, Member>,
    verdicts: readKeyed(backend, 'verdicts', sink) as Map<string, Verdict>,
    roles: readKeyed(backend, 'roles', sink) as Map<string, RoleRecord>,
    policy: readPolicy(backend, sink),
    drivers: readDrivers(backend, sink),
  };
}

/**
 * The snapshot at `heads` from `previous`, a snapshot of the same document at heads it has since
 * moved past: re-reads only the entries Automerge's diff between the two touches.
 */
export function advanceView(backend: Backend, previous: DocumentView, heads: readonly string[], sink: SchemaIssueSink): DocumentView {
  const dirty = dirtyEntries(backend, previous.heads, heads);
  const keyed = (name: KeyedMap): ReadonlyMap<string, unknown> => {
    const keys = dirty.get(name);
    if (keys === undefined) return previous[name];
    if (keys === WHOLE) return readKeyed(backend, name, sink);
    const out = new Map<string, unknown>(previous[name] as ReadonlyMap<string, unknown>);
    const id = topLevelId(backend, name, sink);
    for (const key of keys) {
      const parsed = id === undefined ? undefined : parsedRecord(`${name}.${key}`, key, readValue(backend, id, key), PARSERS[name], sink);
      if (parsed === undefined) out.delete(key);
      else out.set(key, parsed);
    }
    return out;
  };
  let drivers = previous.drivers;
  const driverKeys = dirty.get('drivers');
  if (driverKeys === WHOLE) drivers = readDrivers(backend, sink);
  else if (driverKeys !== undefined) {
    const out = new Map(previous.drivers);
    const id = topLevelId(backend, 'drivers', sink);
    for (const driver of driverKeys) {
      const records = id === undefined ? undefined : readDriver(backend, id, driver, sink);
      if (records === undefined) out.delete(driver);
      else out.set(driver, records);
    }
    drivers = out;
  }
  return {
    heads,
    members: keyed('members') as ReadonlyMap<string, Member>,
    verdicts: keyed('verdicts') as ReadonlyMap<string, Verdict>,
    roles: keyed('roles') as ReadonlyMap<string, RoleRecord>,
    policy: dirty.has('policy') ? readPolicy(backend, sink) : previous.policy,
    drivers,
  };
}

/**
 * The snapshot at `heads` of `base`'s document after record puts made on top of it (in the
 * order made): each record's text parsed as a reader would parse it from the document.
 */
export function withRecords(base: DocumentView, heads: readonly string[], records: readonly { map: KeyedMap; key: string; text: string }[], sink: SchemaIssueSink): DocumentView {
  const maps = new Map<KeyedMap, Map<string, unknown>>();
  for (const { map, key, text } of records) {
    let out = maps.get(map);
    if (out === undefined) maps.set(map, (out = new Map<string, unknown>(base[map] as ReadonlyMap<string, unknown>)));
    const parsed = parsedRecord(`${map}.${key}`, key, text, PARSERS[map], sink);
    if (parsed === undefined) out.delete(key);
    else out.set(key, parsed);
  }
  return {
    heads,
    members: (maps.get('members') ?? base.members) as ReadonlyMap<string, Member>,
    verdicts: (maps.get('verdicts') ?? base.verdicts) as ReadonlyMap<string, Verdict>,
    roles: (maps.get('roles') ?? base.roles) as ReadonlyMap<string, RoleRecord>,
    policy: base.policy,
    drivers: base.drivers,
  };
}

/** Marks a top-level entry replaced or retyped as a whole (as opposed to some of its keys). */
const WHOLE = 'whole';

/** Top-level entries touched between two head sets: the set of their keys touched, or WHOLE. */
function dirtyEntries(backend: Backend, before: readonly string[], after: readonly string[]): Map<string, Set<string> | typeof WHOLE> {
  const dirty = new Map<string, Set<string> | typeof WHOLE>();
  for (const patch of backend.diff([...before], [...after])) {
    const [top, key] = patch.path;
    if (typeof top !== 'string') continue;
    const seen = dirty.get(top);
    if (seen === WHOLE) continue;
    if (key === undefined) dirty.set(top, WHOLE);
    else if (seen === undefined) dirty.set(top, new Set([String(key)]));
    else seen.add(String(key));
  }
  return dirty;
}

/** A value as plain data: objects materialized, scalars as they are, undefined when absent. */
function readValue(backend: Backend, obj: string, prop: string): unknown {
  const entry = backend.getWithType(obj, prop) as [string, unknown] | null | undefined;
  if (entry === null || entry === undefined) return undefined;
  const [type, value] = entry;
  return type === 'map' || type === 'list' || type === 'text' ? backend.materialize(value as string) : value;
}

/** The object id of a top-level map; undefined (and an issue reported) when it is not a map. */
function topLevelId(backend: Backend, name: TopLevelMap, sink: SchemaIssueSink): string | undefined {
  const entry = backend.getWithType('_root', name) as [string, unknown] | null | undefined;
  if (entry !== null && entry !== undefined && entry[0] === 'map') return entry[1] as string;
  const value = entry?.[1];
  sink(name, `top-level ${name} is not a map (got ${entry === null || entry === undefined ? 'undefined' : readString(value) !== undefined ? 'a string' : entry[0]})`);
  return undefined;
}

function readKeyed(backend: Backend, name: KeyedMap, sink: SchemaIssueSink): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const id = topLevelId(backend, name, sink);
  if (id === undefined) return out;
  const map = backend.materialize(id) as Record<string, unknown>;
  for (const key of Object.keys(map).sort()) {
    const parsed = parsedRecord(`${name}.${key}`, key, map[key], PARSERS[name], sink);
    if (parsed !== undefined) out.set(key, parsed);
  }
  return out;
}

export function readPolicy(backend: Backend, sink: SchemaIssueSink): PolicyEnvelope | undefined {
  return deepFreeze(parsePolicy(readValue(backend, '_root', 'policy'), sink));
}

function readDrivers(backend: Backend, sink: SchemaIssueSink): Map<string, DriverRecords> {
  const out = new Map<string, DriverRecords>();
  const id = topLevelId(backend, 'drivers', sink);
  if (id === undefined) return out;
  for (const driver of backend.keys(id).sort()) {
    const records = readDriver(backend, id, driver, sink);
    if (records !== undefined) out.set(driver, records);
  }
  return out;
}

/** One driver's valid records, or undefined when the driver has no entry or it is not a map. */
function readDriver(backend: Backend, driversId: string, driver: string, sink: SchemaIssueSink): DriverRecords | undefined {
  const records = readValue(backend, driversId, driver);
  if (records === undefined) return undefined;
  if (!isMap(records)) {
    sink(`drivers.${driver}`, 'expected an object');
    return undefined;
  }
  const out: Record<string, JsonValue> = {};
  const parse = (key: string, value: unknown, issues: SchemaIssueSink): JsonValue | undefined => parseDriverRecord(driver, key, value, issues);
  for (const key of Object.keys(records).sort()) {
    const value = parsedRecord(`drivers.${driver}.${key}`, key, records[key], parse, sink);
    if (value !== undefined) out[key] = value;
  }
  return deepFreeze(out);
}

