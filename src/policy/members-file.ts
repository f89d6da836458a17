/**
 * The members file read by `pace policy plan|explain`: a JSON array of
 * `{ "id", "facts": { "cpus", "memoryMB", "diskGB", "arch" }, "labels": {...}, "alive", "role" }`.
 * Every problem is reported with the file, the entry and the field, never as a stack trace.
 */
import { ROLES, type MemberView, type NodeFacts, type Role } from './types.js';
import { LABEL_KEY_PATTERN } from './schema.js';
import { LineIndex } from '../util/source-position.js';

export class MembersFileError extends Error {
  override readonly name = 'MembersFileError';
  constructor(readonly file: string, readonly problems: string[]) {
    super(`${file}: ${problems.join('; ')}`);
  }
}

const MEMBER_KEYS = ['id', 'facts', 'labels', 'alive', 'role'];
const FACT_KEYS = ['cpus', 'memoryMB', 'diskGB', 'arch'];
const LABEL_KEY = new RegExp(LABEL_KEY_PATTERN);
const MAX_LABEL_VALUE = 256;

export function parseMembers(text: string, file: string): MemberView[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MembersFileError(file, [jsonErrorWithPosition(err as Error, text)]);
  }
  if (!Array.isArray(value)) throw new MembersFileError(file, [`expected a JSON array of members, got ${kind(value)}`]);
  const problems: string[] = [];
  const members: MemberView[] = [];
  const seen = new Map<string, number>();
  value.forEach((entry: unknown, i) => {
    const member = parseMember(entry, `[${i}]`, problems);
    if (!member) return;
    const first = seen.get(member.id);
    if (first !== undefined) problems.push(`[${i}].id: duplicate id '${member.id}' (first at [${first}])`);
    else seen.set(member.id, i);
    members.push(member);
  });
  if (problems.length > 0) throw new MembersFileError(file, problems);
  return members;
}

function parseMember(entry: unknown, at: string, problems: string[]): MemberView | undefined {
  if (!isObject(entry)) {
    problems.push(`${at}: expected an object, got ${kind(entry)}`);
    return undefined;
  }
  const before = problems.length;
  unknownKeys(entry, MEMBER_KEYS, at, problems);
  const id = entry.id;
  if (typeof id !== 'string' || id.length === 0 || id.length > 128) problems.push(`${at}.id: must be a non-empty string of at most 128 characters`);
  const facts = parseFacts(entry.facts, `${at}.facts`, problems);
  const labels = parseLabels(entry.labels ?? {}, `${at}.labels`, problems);
  if (typeof entry.alive !== 'boolean') problems.push(`${at}.alive: must be true or false, got ${kind(entry.alive)}`);
  const role = entry.role ?? null;
  if (role !== null && !(ROLES as readonly unknown[]).includes(role)) {
    problems.push(`${at}.role: must be one of ${ROLES.join(', ')} or null, got ${JSON.stringify(role)}`);
  }
  if (problems.length > before || !facts || !labels) return undefined;
  return { id: id as string, facts, labels, alive: entry.alive as boolean, role: role as Role | null };
}

function parseFacts(value: unknown, at: string, problems: string[]): NodeFacts | undefined {
  if (!isObject(value)) {
    problems.push(`${at}: expected an object with ${FACT_KEYS.join(', ')}, got ${kind(value)}`);
    return undefined;
  }
  unknownKeys(value, FACT_KEYS, at, problems);
  let ok = true;
  for (const key of ['cpus', 'memoryMB', 'diskGB']) {
    const n = value[key];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      problems.push(`${at}.${key}: must be a non-negative integer, got ${kind(n)}`);
      ok = false;
    }
  }
  if (typeof value.arch !== 'string' || value.arch.length === 0) {
    problems.push(`${at}.arch: must be a non-empty string such as "amd64" or "arm64", got ${kind(value.arch)}`);
    ok = false;
  }
  return ok ? { cpus: value.cpus as number, memoryMB: value.memoryMB as number, diskGB: value.diskGB as number, arch: value.arch as string } : undefined;
}

function parseLabels(value: unknown, at: string, problems: string[]): Record<string, string> | undefined {
  if (!isObject(value)) {
    problems.push(`${at}: expected an object of string labels, got ${kind(value)}`);
    return undefined;
  }
  const out: Record<string, string> = {};
  let ok = true;
  for (const [key, v] of Object.entries(value)) {
    if (!LABEL_KEY.test(key)) {
      problems.push(`${at}: invalid label key ${JSON.stringify(key)}`);
      ok = false;
    } else if (typeof v !== 'string' || v.length > MAX_LABEL_VALUE) {
      problems.push(`${at}.${key}: must be a string of at most ${MAX_LABEL_VALUE} characters, got ${kind(v)}`);
      ok = false;
    } else {
      out[key] = v;
    }
  }
  return ok ? out : undefined;
}

function unknownKeys(obj: Record<string, unknown>, allowed: string[], at: string, problems: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) problems.push(`${at}: unknown key '${key}' (allowed: ${allowed.join(', ')})`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kind(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Node's JSON.parse messages carry "position N"; turn that into line:col. */
function jsonErrorWithPosition(err: Error, text: string): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return `invalid JSON: ${err.message}`;
  const { line, col } = new LineIndex(text).position(Number(m[1]));
  return `invalid JSON at line ${line}, column ${col}: ${err.message.replace(/ in JSON at position \d+.*$/, '')}`;
}
