/**
 * Driver settings checks the policy loader runs (`spec.driver.settings` is free-form in the
 * schema; each driver says what it accepts). Returns `[field, message]` per problem.
 */
import type { DriverName } from '../policy/types.js';
import { parseExecSettings } from './exec-settings.js';

export function checkDriverSettings(driver: DriverName, settings: Readonly<Record<string, unknown>>): [string, string][] {
  if (driver === 'exec') {
    const parsed = parseExecSettings(settings);
    return Array.isArray(parsed) ? parsed : [];
  }
  return [];
}
