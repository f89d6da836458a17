/**
 * The driver a node uses is named by the active policy (`spec.driver.name`), which can change
 * at run time. PolicyDriver routes each call to the driver for the current policy, and fails
 * clearly — the failure shows in `pace status` and the role record — for a driver this build
 * cannot run, rather than pretending to perform the role.
 */
import { DRIVER_NAMES, type DriverName, type Role } from '../policy/types.js';
import type { ActivePolicy, RoleDriver } from '../roles/role-controller.js';
import type { ControlPlaneChange } from '../roles/control-plane-plan.js';

export class DriverUnavailableError extends Error {
  override readonly name = 'DriverUnavailableError';
  constructor(readonly driver: string) {
    super(`driver '${driver}' is not available in this build of PACE (available: ${Object.keys(AVAILABLE).join(', ') || 'none'})`);
  }
}

/** Which drivers this build can run (filled as drivers land). */
const AVAILABLE: Partial<Record<DriverName, true>> = { log: true, exec: true, etcd: true };

export class PolicyDriver implements RoleDriver {
  constructor(
    private readonly activePolicy: () => ActivePolicy | undefined,
    private readonly drivers: Partial<Record<DriverName, RoleDriver>>,
  ) {
    for (const name of Object.keys(drivers)) if (!(DRIVER_NAMES as readonly string[]).includes(name)) throw new Error(`unknown driver ${name}`);
  }

  ensure(role: Role, context: { signal?: AbortSignal }): Promise<void> {
    return this.current().ensure(role, context);
  }

  changeControlPlane(change: ControlPlaneChange, members: readonly string[], context: { signal?: AbortSignal }): Promise<string[]> {
    return this.current().changeControlPlane(change, members, context);
  }

  /** The current driver's answer; a driver without member state holds any seat it is given. */
  async holdsSeat(context: { signal?: AbortSignal }): Promise<boolean> {
    const driver = this.current();
    return driver.holdsSeat === undefined ? true : driver.holdsSeat(context);
  }

  private current(): RoleDriver {
    const name = this.activePolicy()?.policy.driver.name ?? 'log';
    const driver = this.drivers[name];
    if (!driver) throw new DriverUnavailableError(name);
    return driver;
  }
}
