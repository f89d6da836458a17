/**
 * The agent's configuration, merged from its sources with the precedence
 * built-in defaults < config file (YAML) < `PACE_*` environment < command-line flags
 * (docs/CONFIG.md). Resolution is all-or-nothing: any problem in any source — an unknown key,
 * variable or flag, a wrong type — fails it, and every problem is reported at once.
 *
 * Membership timing: fields not set by any source come from the profile (`membership.profile`)
 * when a source chose one, else from the defaults. The node name, when empty after merging,
 * is the host name; facts not overridden are the detected ones (source `host`).
 */
import { readFile } from 'node:fs/promises';
import type { NodeFacts } from '../policy/types.js';
import { formatDuration } from '../policy/duration.js';
import { DEFAULT_AGENT_CONFIG } from './defaults.js';
import { detectHostInfo, type HostInfo } from './detect-facts.js';
import { CONFIG_FIELDS, type ConfigValue } from './fields.js';
import {
  readEnvLayer,
  readFileLayer,
  readFlagLayer,
  type ConfigProblem,
  type EnvVars,
  type FlagValues,
  type Setting,
  type SettingSource,
} from './sources.js';
import { profileTiming, TIMING_KEYS } from './membership-timing.js';
import type { AgentConfig, MembershipProfileName } from './types.js';

export interface ResolveInput {
  /** @default DEFAULT_AGENT_CONFIG */
  defaults?: Readonly<AgentConfig>;
  /** The config file's text, when there is one. */
  fileText?: string;
  /** Labels file positions. @default 'config.yaml' */
  fileName?: string;
  /** @default {} */
  env?: EnvVars;
  /** @default {} */
  flags?: FlagValues;
  /** The host's name and detected facts. */
  host: HostInfo;
}

/** The merged configuration and where every value came from. */
export interface ResolvedConfig {
  /** The merged config; `nodeName` is never empty. */
  config: AgentConfig;
  /** The facts the node reports: overrides from the config, the rest detected. */
  facts: NodeFacts;
  /** Source of every field, by dotted path (`membership.probeInterval`, `facts.cpus`). */
  sources: Record<string, SettingSource>;
}

export type ResolveResult = { ok: true; resolved: ResolvedConfig } | { ok: false; problems: ConfigProblem[] };

const FACT_KEYS = ['cpus', 'memoryMB', 'diskGB', 'arch'] as const satisfies readonly (keyof NodeFacts)[];

/** Merges the sources. Pure. */
export function resolveConfig(input: ResolveInput): ResolveResult {
  const defaults = input.defaults ?? DEFAULT_AGENT_CONFIG;
  const layers = [
    ...(input.fileText === undefined ? [] : [readFileLayer(input.fileText, input.fileName ?? 'config.yaml')]),
    readEnvLayer(input.env ?? {}),
    readFlagLayer(input.flags ?? {}),
  ];
  const problems = layers.flatMap((l) => l.problems);
  if (problems.length > 0) return { ok: false, problems };

  const winner = new Map<string, Setting>();
  for (const layer of layers) for (const s of layer.settings) winner.set(s.path, s);

  const config = clone(defaults);
  const sources: Record<string, SettingSource> = {};
  for (const field of CONFIG_FIELDS) if (!field.path.startsWith('facts.')) sources[field.path] = { kind: 'default' };

  const profileSetting = winner.get('membership.profile');
  if (profileSetting !== undefined) {
    const profile = profileSetting.value as MembershipProfileName;
    const timing = profileTiming(profile);
    for (const key of TIMING_KEYS) {
      config.membership[key] = timing[key];
      sources[`membership.${key}`] = { kind: 'profile', profile };
    }
  }
  for (const s of winner.values()) {
    setPath(config, s.path, s.value);
    sources[s.path] = s.source;
  }

  if (config.nodeName === '') {
    config.nodeName = input.host.hostname;
    sources.nodeName = { kind: 'host' };
  }
  const facts = { ...input.host.facts };
  for (const key of FACT_KEYS) {
    const override = config.facts[key];
    if (override === undefined) {
      sources[`facts.${key}`] = { kind: 'host' };
    } else {
      (facts as Record<string, unknown>)[key] = override;
      sources[`facts.${key}`] ??= { kind: 'default' };
    }
  }

  const m = config.membership;
  if (m.probeTimeout >= m.probeInterval) {
    return {
      ok: false,
      problems: [
        {
          source: sources['membership.probeTimeout'] ?? { kind: 'default' },
          key: 'membership.probeTimeout',
          message: `must be shorter than membership.probeInterval (${formatDuration(m.probeTimeout)} >= ${formatDuration(m.probeInterval)})`,
        },
      ],
    };
  }
  return { ok: true, resolved: { config, facts, sources } };
}

/** Where the config file comes from: `--config`, else `PACE_CONFIG`, else none. */
export function configFileFrom(flagValue: string | undefined, env: EnvVars): string | undefined {
  return flagValue ?? (env.PACE_CONFIG === '' ? undefined : env.PACE_CONFIG);
}

/**
 * Reads the config file (when given), detects the host, and resolves. An unreadable file is a
 * problem naming the file, not an exception.
 */
export async function loadAgentConfig(options: {
  configFile?: string;
  env: EnvVars;
  flags: FlagValues;
  /** Detected when omitted (node:os, statfs of the data dir). */
  host?: HostInfo;
  defaults?: Readonly<AgentConfig>;
}): Promise<ResolveResult> {
  let fileText: string | undefined;
  if (options.configFile !== undefined) {
    try {
      fileText = await readFile(options.configFile, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
      return { ok: false, problems: [{ source: { kind: 'file', file: options.configFile, line: 0, col: 0 }, key: '(file)', message: `cannot read config: ${why}` }] };
    }
  }
  const first = resolveConfig({
    ...(options.defaults ? { defaults: options.defaults } : {}),
    ...(fileText === undefined ? {} : { fileText, fileName: options.configFile }),
    env: options.env,
    flags: options.flags,
    host: options.host ?? { hostname: '', facts: { cpus: 1, memoryMB: 0, diskGB: 0, arch: '' } },
  });
  if (!first.ok || options.host !== undefined) return first;
  // The disk fact depends on the data dir, which the config decides: detect after a first pass.
  const host = detectHostInfo(first.resolved.config.dataDir);
  return resolveConfig({
    ...(options.defaults ? { defaults: options.defaults } : {}),
    ...(fileText === undefined ? {} : { fileText, fileName: options.configFile }),
    env: options.env,
    flags: options.flags,
    host,
  });
}

function clone(config: Readonly<AgentConfig>): AgentConfig {
  return JSON.parse(JSON.stringify(config)) as AgentConfig;
}

/** Sets `a.b` in the config object (paths come from the field table only). */
function setPath(config: AgentConfig, path: string, value: ConfigValue): void {
  const parts = path.split('.');
  let target = config as unknown as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) target = target[part] as Record<string, unknown>;
  target[parts[parts.length - 1] ?? ''] = value;
}
