/**
 * Reading each configuration source into settings — the config file (YAML), the `PACE_*`
 * environment, the command-line flags — each with where it came from. Every unknown key,
 * variable or flag, and every value of the wrong type, is a {@link ConfigProblem} that names
 * its source (file:line:col, the variable, the flag) and suggests a near match.
 * Pure: no I/O.
 */
import { isMap, isNode, isPair, isScalar, parseDocument, type Document, type Node as YamlNode, type Pair } from 'yaml';
import { LineIndex } from '../util/source-position.js';
import { CONFIG_FIELDS, CONFIG_GROUPS, describe, FIELD_BY_PATH, fromText, fromYaml, NON_CONFIG_ENV, type ConfigValue, type FieldSpec, type Parsed } from './fields.js';
import { closest } from './suggest.js';

/** Where a value came from. */
export type SettingSource =
  | { kind: 'default' }
  | { kind: 'profile'; profile: string }
  | { kind: 'host' }
  | { kind: 'file'; file: string; line: number; col: number }
  | { kind: 'env'; variable: string }
  | { kind: 'flag'; flag: string };

/** One field set by one source. */
export interface Setting {
  path: string;
  value: ConfigValue;
  source: SettingSource;
}

/** Something wrong in one source. */
export interface ConfigProblem {
  source: SettingSource;
  /** The key as written (`membership.probeIntervall`, `PACE_NODE_NAM`, `--node-nam`). */
  key: string;
  message: string;
}

export interface LayerResult {
  settings: Setting[];
  problems: ConfigProblem[];
}

/** Environment variables (as in process.env). */
export type EnvVars = Readonly<Record<string, string | undefined>>;
/**
 * Flag values by flag name without dashes (`node-name`); a repeated flag is a list of texts;
 * a boolean flag is `true` (`--mdns`) or `false` (`--no-mdns`). Undefined means not given.
 */
export type FlagValues = Readonly<Record<string, string | readonly string[] | boolean | undefined>>;

const TOP_LEVEL = [...CONFIG_FIELDS.filter((f) => !f.path.includes('.')).map((f) => f.path), ...CONFIG_GROUPS];
const ENV_NAMES = CONFIG_FIELDS.map((f) => f.env);
const FLAG_NAMES = CONFIG_FIELDS.map((f) => f.flag);

/** `agent.yaml:3:5`, `PACE_NODE_NAME`, `--node-name`, `default`, `profile wan`, `host`. */
export function formatSource(source: SettingSource): string {
  switch (source.kind) {
    case 'file':
      return source.line > 0 ? `${source.file}:${source.line}:${source.col}` : source.file;
    case 'env':
      return source.variable;
    case 'flag':
      return `--${source.flag}`;
    case 'profile':
      return `profile ${source.profile}`;
    default:
      return source.kind;
  }
}

/** `agent.yaml:3:5: nodeNmae: unknown key (did you mean 'nodeName'?)` */
export function formatProblem(problem: ConfigProblem): string {
  const where = formatSource(problem.source);
  if (problem.source.kind === 'file' && !problem.key.startsWith('(')) return `${where}: ${problem.key}: ${problem.message}`;
  return `${where}: ${problem.message}`;
}

/** Reads the YAML config file text; `file` labels positions. */
export function readFileLayer(text: string, file: string): LayerResult {
  const lines = new LineIndex(text);
  const at = (offset: number): SettingSource => ({ kind: 'file', file, ...lines.position(offset) });
  const settings: Setting[] = [];
  const problems: ConfigProblem[] = [];
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) problems.push({ source: at(e.pos[0]), key: '(yaml)', message: e.message.split('\n')[0] ?? e.message });
    return { settings, problems };
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { settings, problems };
  if (!isMap(root)) {
    problems.push({ source: at(root.range?.[0] ?? 0), key: '(document)', message: `the config file must be a map of settings, got ${describe(toJs(doc, root))}` });
    return { settings, problems };
  }
  for (const pair of root.items) {
    const key = keyOf(pair);
    const keyOffset = offsetOf(pair.key) ?? 0;
    if (key === undefined) {
      problems.push({ source: at(keyOffset), key: '(key)', message: 'keys must be plain strings' });
      continue;
    }
    const field = FIELD_BY_PATH.get(key);
    if (field !== undefined) {
      addValue(field, pair, key);
      continue;
    }
    if (CONFIG_GROUPS.includes(key)) {
      const group = pair.value;
      const children = CONFIG_FIELDS.filter((f) => f.path.startsWith(`${key}.`)).map((f) => f.path.slice(key.length + 1));
      if (!isMap(group)) {
        const got = isNode(group) ? describe(toJs(doc, group)) : 'nothing (null)';
        problems.push({ source: at(offsetOf(group) ?? keyOffset), key, message: `must be a map with keys ${children.join(', ')}; got ${got}` });
        continue;
      }
      for (const sub of group.items) {
        const subKey = keyOf(sub);
        const path = `${key}.${subKey ?? '?'}`;
        const subField = subKey === undefined ? undefined : FIELD_BY_PATH.get(path);
        if (subField !== undefined) addValue(subField, sub, path);
        else problems.push({ source: at(offsetOf(sub.key) ?? keyOffset), key: path, message: unknownKeyMessage(subKey ?? '?', children) });
      }
      continue;
    }
    problems.push({ source: at(keyOffset), key, message: unknownKeyMessage(key, TOP_LEVEL) });
  }
  return { settings, problems };

  function addValue(field: FieldSpec, pair: Pair, key: string): void {
    const node = pair.value;
    const source = at(offsetOf(node) ?? offsetOf(pair.key) ?? 0);
    const parsed: Parsed = fromYaml(field, isNode(node) ? toJs(doc, node) : null);
    if (parsed.ok) settings.push({ path: field.path, value: parsed.value, source: at(offsetOf(pair.key) ?? 0) });
    else problems.push({ source, key, message: parsed.message });
  }
}

/** Reads `PACE_*` variables; other variables are ignored, unknown `PACE_*` ones are problems. */
export function readEnvLayer(env: EnvVars): LayerResult {
  const settings: Setting[] = [];
  const problems: ConfigProblem[] = [];
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (!name.startsWith('PACE_') || value === undefined || NON_CONFIG_ENV.includes(name)) continue;
    const source: SettingSource = { kind: 'env', variable: name };
    const field = CONFIG_FIELDS.find((f) => f.env === name);
    if (field === undefined) {
      const near = closest(name, ENV_NAMES);
      problems.push({ source, key: name, message: `unknown environment variable${near ? ` (did you mean ${near}?)` : ''}; see docs/CONFIG.md` });
      continue;
    }
    const parsed = fromText(field, [value]);
    if (parsed.ok) settings.push({ path: field.path, value: parsed.value, source });
    else problems.push({ source, key: name, message: parsed.message });
  }
  return { settings, problems };
}

/** Reads flag values (see {@link FlagValues}). */
export function readFlagLayer(flags: FlagValues): LayerResult {
  const settings: Setting[] = [];
  const problems: ConfigProblem[] = [];
  for (const name of Object.keys(flags).sort()) {
    const value = flags[name];
    if (value === undefined) continue;
    const field = CONFIG_FIELDS.find((f) => f.flag === name);
    const source: SettingSource = { kind: 'flag', flag: value === false && field?.kind.type === 'bool' ? `no-${name}` : name };
    if (field === undefined) {
      const near = closest(name, FLAG_NAMES);
      problems.push({ source, key: `--${name}`, message: `unknown flag${near ? ` (did you mean --${near}?)` : ''}` });
      continue;
    }
    let parsed: Parsed;
    if (typeof value === 'boolean') {
      parsed = field.kind.type === 'bool' ? { ok: true, value } : { ok: false, message: `needs a value (${field.arg})` };
    } else {
      parsed = fromText(field, typeof value === 'string' ? [value] : value);
    }
    if (parsed.ok) settings.push({ path: field.path, value: parsed.value, source });
    else problems.push({ source, key: `--${name}`, message: parsed.message });
  }
  return { settings, problems };
}

function unknownKeyMessage(key: string, siblings: readonly string[]): string {
  const near = closest(key, siblings);
  if (near !== undefined) return `unknown key (did you mean '${near}'?)`;
  // A key written at the wrong level: `probeInterval` at the top instead of under `membership`.
  const elsewhere = closest(key, CONFIG_FIELDS.map((f) => f.path.split('.').pop() ?? ''));
  const path = elsewhere === undefined ? undefined : CONFIG_FIELDS.find((f) => f.path.endsWith(`.${elsewhere}`) || f.path === elsewhere)?.path;
  if (path !== undefined && !siblings.includes(path)) return `unknown key (did you mean '${path}'?)`;
  return `unknown key (allowed: ${siblings.join(', ')})`;
}

function keyOf(pair: Pair): string | undefined {
  return isScalar(pair.key) && typeof pair.key.value === 'string' ? pair.key.value : undefined;
}

function offsetOf(node: unknown): number | undefined {
  return isNode(node) || isPair(node) ? (node as YamlNode).range?.[0] : undefined;
}

function toJs(doc: Document, node: YamlNode): unknown {
  return node.toJS(doc, { maxAliasCount: 50 }) as unknown;
}
