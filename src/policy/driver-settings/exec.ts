/**
 * Settings of the `exec` driver (`spec.driver.settings` in a policy), checked when the policy
 * is loaded so `pace policy check` reports them with the rest.
 */
import { isAbsolute } from 'node:path';
import { parseDuration } from '../duration.js';

export interface ExecSettings {
  /** Directory holding the hook scripts (absolute). */
  hooksDir: string;
  /** Longest a hook may run before it is killed. @default 60000 */
  timeoutMs: number;
}

export const DEFAULT_HOOK_TIMEOUT_MS = 60_000;
const KEYS = ['hooksDir', 'timeout'];

/** The settings, or one problem per wrong field as `[field, message]`. */
export function parseExecSettings(settings: Readonly<Record<string, unknown>>): ExecSettings | [string, string][] {
  const problems: [string, string][] = [];
  for (const key of Object.keys(settings)) if (!KEYS.includes(key)) problems.push([key, `unknown key for the exec driver (allowed: ${KEYS.join(', ')})`]);
  const { hooksDir, timeout } = settings;
  if (typeof hooksDir !== 'string' || !isAbsolute(hooksDir)) problems.push(['hooksDir', 'the exec driver needs hooksDir: an absolute directory path']);
  let timeoutMs = DEFAULT_HOOK_TIMEOUT_MS;
  if (timeout !== undefined) {
    const ms = typeof timeout === 'string' ? parseDuration(timeout) : undefined;
    if (ms === undefined || ms === 0) problems.push(['timeout', `${JSON.stringify(timeout)} is not a positive duration (e.g. 30s)`]);
    else timeoutMs = ms;
  }
  return problems.length > 0 ? problems : { hooksDir: hooksDir as string, timeoutMs };
}
