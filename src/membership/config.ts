import { MembershipConfigError } from './errors.js';

/**
 * Failure-detector timings and limits. Every duration is in milliseconds of the injected
 * Clock. The values live in one table, `profiles.ts` (each field commented there); formulas
 * that use them live in `timing.ts`; docs/MEMBERSHIP.md tabulates them.
 */
export interface MembershipConfig {
  probeIntervalMs: number;
  probeTimeoutMs: number;
  indirectChecks: number;
  suspicionMult: number;
  suspicionMaxTimeoutMult: number;
  retransmitMult: number;
  awarenessMaxMultiplier: number;
  maxPiggybackBytes: number;
  maxMessageBytes: number;
  reconnectIntervalMs: number;
}

const INTEGER_FIELDS: ReadonlySet<string> = new Set(['indirectChecks', 'awarenessMaxMultiplier', 'maxPiggybackBytes', 'maxMessageBytes']);

/** Smallest accepted value per field; `probeTimeoutMs < probeIntervalMs` is checked separately. */
const MINIMUM: Readonly<Record<keyof MembershipConfig, number>> = {
  probeIntervalMs: 1,
  probeTimeoutMs: 1,
  indirectChecks: 0,
  suspicionMult: 1,
  suspicionMaxTimeoutMult: 1,
  retransmitMult: 1,
  awarenessMaxMultiplier: 1,
  maxPiggybackBytes: 0,
  maxMessageBytes: 256,
  reconnectIntervalMs: 1,
};

/**
 * `base` with `overrides` applied, validated. Unknown keys, non-finite or out-of-range values
 * and a probe timeout not below the probe interval raise {@link MembershipConfigError}.
 * Callers start from a profile: `membershipFor(profile, overrides)` (profiles.ts).
 */
export function membershipConfig(overrides: Readonly<Record<string, unknown>>, base: Readonly<MembershipConfig>): MembershipConfig {
  const out: MembershipConfig = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(MINIMUM, key)) throw new MembershipConfigError(key, 'unknown key');
    if (typeof value !== 'number') throw new MembershipConfigError(key, `expected a number, got ${typeof value}`);
    out[key as keyof MembershipConfig] = value;
  }
  validateMembershipConfig(out);
  return out;
}

/** Throws {@link MembershipConfigError} for the first invalid field of a complete config. */
export function validateMembershipConfig(config: Readonly<MembershipConfig>): void {
  for (const [field, min] of Object.entries(MINIMUM)) checkField(field, (config as unknown as Record<string, unknown>)[field], min, INTEGER_FIELDS.has(field));
  if (config.probeTimeoutMs >= config.probeIntervalMs) {
    throw new MembershipConfigError('probeTimeoutMs', `must be < probeIntervalMs (${config.probeIntervalMs}), got ${config.probeTimeoutMs}`);
  }
}

/** Throws {@link MembershipConfigError} unless `value` is a finite number >= `min` (and an integer when `integer`). */
export function checkField(field: string, value: unknown, min: number, integer = false): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new MembershipConfigError(field, 'must be a finite number');
  if (value < min) throw new MembershipConfigError(field, `must be >= ${min}, got ${value}`);
  if (integer && !Number.isInteger(value)) throw new MembershipConfigError(field, `must be an integer, got ${value}`);
}
