/**
 * The agent's configuration flags (one per config field, from src/config/fields.ts), shared by
 * `pace config print` and `pace agent`, and the mapping from commander's parsed options back to
 * {@link FlagValues} by flag name.
 */
import { Option, type Command } from 'commander';
import { CONFIG_FIELDS } from '../config/fields.js';
import type { FlagValues } from '../config/sources.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Adds `--config` and every config flag to `command`; returns a reader for the parsed values. */
export function addConfigFlags(command: Command): (opts: Record<string, unknown>) => { configFile?: string; flags: FlagValues } {
  command.option('--config <file>', 'agent config file (YAML; default: $PACE_CONFIG, else none)');
  const attributes = new Map<string, string>();
  for (const field of CONFIG_FIELDS) {
    const repeatable = field.kind.type === 'list' || field.kind.type === 'labels';
    if (field.kind.type === 'bool') {
      const on = new Option(`--${field.flag}`, field.doc).helpGroup('Config:');
      command.addOption(on);
      command.addOption(new Option(`--no-${field.flag}`, `do not ${field.doc}`).helpGroup('Config:'));
      attributes.set(field.flag, on.attributeName());
      continue;
    }
    const option = new Option(`--${field.flag} ${field.arg}`, `${field.doc}${repeatable ? ' (repeatable, or comma-separated)' : ''} [${field.env}]`).helpGroup('Config:');
    if (repeatable) option.argParser(collect);
    command.addOption(option);
    attributes.set(field.flag, option.attributeName());
  }
  return (opts) => {
    const flags: Record<string, string | string[] | boolean> = {};
    for (const [flag, attribute] of attributes) {
      const value = opts[attribute];
      if (typeof value === 'string' || typeof value === 'boolean' || Array.isArray(value)) flags[flag] = value as string | string[] | boolean;
    }
    const configFile = typeof opts.config === 'string' ? opts.config : undefined;
    return configFile === undefined ? { flags } : { configFile, flags };
  };
}
