/**
 * Records as JSON text: how member, verdict, role and driver records are stored in the cluster
 * document (schema 2).
 *
 * Each record is one Automerge scalar string holding canonical JSON (object keys sorted, no
 * spaces), and its writer replaces it whole — it is never a nested Automerge object. Why:
 * - one op per record instead of one per field (a member record was 14): every apply, sync
 *   turn, save and load handles about a tenth of the ops;
 * - a record cannot be edited in place, so what it parses to is a pure function of its text.
 *   One parse serves every reader of the same text ({@link parsedRecord}), and a document diff
 *   names every changed record by its key, with no nested patches to read;
 * - a whole record, last writer wins, is what PACE's writers mean anyway: each node writes only
 *   its own member and role records, and concurrent verdicts about one node resolve to one.
 *
 * Anything may arrive from a peer: a value that is not a string, or text that is not JSON, is
 * reported through the sink and skipped like any other entry that does not fit the schema.
 */
import { ContentCache, deepFreeze } from '../util/content-cache.js';
import { readString, type JsonValue, type SchemaIssueSink } from './schema.js';

/** A record's stored text: JSON with every object's keys in sorted order, so equal records are equal text. */
export function recordText(value: JsonValue): string {
  return JSON.stringify(sortedKeys(value));
}

function sortedKeys(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, JsonValue> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortedKeys(value[key] as JsonValue);
  return out;
}

/**
 * Parsed records shared by every reader in the process, keyed by path and text: a simulated
 * fleet's thousand nodes parse each record once instead of once each. Only records that parse
 * are kept (a bad one is re-read and its issue reported by each reader that meets it).
 */
const parsed = new ContentCache<{ value: unknown }>(16_384);

/**
 * The record stored at `path` (e.g. `members.n1`), parsed by `parse`, or undefined when it is
 * absent or does not fit (reported through `sink`). `raw` is the stored value as Automerge
 * returns it. The result is frozen and shared: never modify it.
 */
export function parsedRecord<T>(path: string, key: string, raw: unknown, parse: (key: string, value: unknown, sink: SchemaIssueSink) => T | undefined, sink: SchemaIssueSink): T | undefined {
  if (raw === undefined) return undefined;
  const text = readString(raw);
  if (text === undefined) {
    sink(path, `expected a record as JSON text, got ${describeStored(raw)}`);
    return undefined;
  }
  const cacheKey = `${path}\u0000${text}`;
  const hit = parsed.get(cacheKey);
  if (hit !== undefined) return hit.value as T;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    sink(path, `not JSON: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
  const record = parse(key, value, sink);
  if (record !== undefined) parsed.getOrCompute(cacheKey, () => ({ value: deepFreeze(record) }));
  return record;
}

function describeStored(raw: unknown): string {
  if (Array.isArray(raw)) return 'a list';
  if (raw === null) return 'null';
  return typeof raw === 'object' ? 'an object' : `a ${typeof raw}`;
}
