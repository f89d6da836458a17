/**
 * Driver settings checks the policy loader runs (`spec.driver.settings` is free-form in the
 * schema; each driver says what it accepts). Returns `[field, message]` per problem.
 */
import type { DriverName } from '../policy/types.js';
import { parseEtcdSettings } from './etcd-settings.js';
import { parseExecSettings } from './exec-settings.js';

export function checkDriverSettings(driver: DriverName, settings: Readonly<Record<string, unknown>>): [string, string][] {
  const parsed = driver === 'exec' ? parseExecSettings(settings) : driver === 'etcd' ? parseEtcdSettings(settings) : undefined;
  return Array.isArray(parsed) ? parsed : [];
}
