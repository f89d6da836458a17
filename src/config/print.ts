/**
 * The printable form of a resolved config, for `pace config print`: the config-file shape
 * (durations as strings such as `1s`), so the output can be pasted into a config file.
 * Only paths of secret files are ever printed, never their contents (the config holds none).
 */
import { formatDuration } from '../policy/duration.js';
import type { ResolvedConfig } from './agent-config.js';
import { CONFIG_FIELDS } from './fields.js';
import { formatSource } from './sources.js';

/** What `pace config print --json` prints. Separate from internal types on purpose. */
export interface ConfigPrintJson {
  /** Config-file shape; `facts` are the ones the node reports (overrides, else detected). */
  config: Record<string, unknown>;
  /** With --sources: where each value came from (`default`, `profile wan`, `host`, `file:3:1`, `PACE_X`, `--flag`). */
  sources?: Record<string, string>;
}

/** The merged config in config-file shape; `facts` are the effective ones (overrides, else detected). */
export function printableConfig(resolved: ResolvedConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of CONFIG_FIELDS) {
    const value = valueAt(field.path.startsWith('facts.') ? { facts: resolved.facts } : resolved.config, field.path);
    if (value === undefined) continue;
    const shown = field.kind.type === 'duration' && typeof value === 'number' ? formatDuration(value) : value;
    const parts = field.path.split('.');
    let target = out;
    for (const part of parts.slice(0, -1)) target = (target[part] ??= {}) as Record<string, unknown>;
    target[parts[parts.length - 1] ?? ''] = shown;
  }
  return out;
}

/** Rows `[path, value, source]` for every field and fact, in table order. */
export function sourceRows(resolved: ResolvedConfig): [string, string, string][] {
  const rows: [string, string, string][] = [];
  for (const field of CONFIG_FIELDS) {
    const raw = valueAt(field.path.startsWith('facts.') ? { facts: resolved.facts } : resolved.config, field.path);
    const value = field.kind.type === 'duration' && typeof raw === 'number' ? formatDuration(raw) : JSON.stringify(raw);
    const source = resolved.sources[field.path];
    rows.push([field.path, value, source === undefined ? 'default' : formatSource(source)]);
  }
  return rows;
}

export function configPrintJson(resolved: ResolvedConfig, withSources: boolean): ConfigPrintJson {
  const json: ConfigPrintJson = { config: printableConfig(resolved) };
  if (withSources) json.sources = Object.fromEntries(sourceRows(resolved).map(([path, , source]) => [path, source]));
  return json;
}

function valueAt(config: object, path: string): unknown {
  let v: unknown = config;
  for (const part of path.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}
