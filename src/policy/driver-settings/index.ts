/**
 * The policy's `spec.driver`: which driver performs the roles, and its settings checked and
 * parsed once, when the policy is loaded (`pace policy check` reports wrong settings with the
 * rest of the policy). Drivers receive the parsed form; they never parse settings themselves.
 * Each driver's settings are described in its own file here and in docs/DRIVERS.md.
 */
import { parseEtcdSettings, type EtcdSettings } from './etcd.js';
import { parseExecSettings, type ExecSettings } from './exec.js';

export const DRIVER_NAMES = ['etcd', 'k3s', 'galera', 'swarm', 'exec', 'log'] as const;
export type DriverName = (typeof DRIVER_NAMES)[number];

/** A driver with settings of its own, and those settings; the other drivers take none this build checks. */
export type DriverSpec =
  | { name: 'etcd'; settings: EtcdSettings }
  | { name: 'exec'; settings: ExecSettings }
  | { name: Exclude<DriverName, 'etcd' | 'exec'>; settings: Readonly<Record<string, unknown>> };

/** The driver section parsed, or one problem per wrong setting as `[field, message]`. */
export function parseDriverSpec(name: DriverName, settings: Readonly<Record<string, unknown>>): DriverSpec | [string, string][] {
  switch (name) {
    case 'etcd': {
      const parsed = parseEtcdSettings(settings);
      return Array.isArray(parsed) ? parsed : { name, settings: parsed };
    }
    case 'exec': {
      const parsed = parseExecSettings(settings);
      return Array.isArray(parsed) ? parsed : { name, settings: parsed };
    }
    default:
      return { name, settings: { ...settings } };
  }
}
