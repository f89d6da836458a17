/**
 * The driver a node uses is named by the active policy (`spec.driver.name`), which can change
 * at run time. PolicyDriver builds that driver from the node's registry the first time a
 * policy names it (one instance per name for the node's life, so a driver's handle on running
 * software survives policy updates), hands it the policy's parsed settings, and routes each
 * call to it. A name the registry does not hold fails clearly — the failure shows in
 * `pace status` and the role record — rather than pretending to perform the role.
 */
import type { DriverName, DriverSpec, Role } from '../policy/types.js';
import type { ActivePolicy } from '../roles/active-policy.js';
import type { ControlPlaneChange } from '../roles/control-plane-plan.js';
import type { DriverContext, DriverFactory, DriverRegistry, RoleDriver } from '../roles/driver.js';

export class DriverUnavailableError extends Error {
  override readonly name = 'DriverUnavailableError';
  constructor(readonly driver: string, available: readonly string[]) {
    super(`driver '${driver}' is not available in this build of PACE (available: ${available.join(', ') || 'none'})`);
  }
}

/** What a node has no policy yet: roles are only logged. */
const NO_POLICY_DRIVER: DriverSpec = { name: 'log', settings: {} };

/** The node's side of every driver it builds (DriverContext without the settings). */
export type NodeDriverContext = Omit<DriverContext<never>, 'settings'>;

interface Built {
  driver: RoleDriver;
  /** The settings of the last policy that named this driver. */
  spec: DriverSpec;
}

export class PolicyDriver implements RoleDriver {
  readonly #built = new Map<DriverName, Built>();

  constructor(
    private readonly activePolicy: () => ActivePolicy | undefined,
    private readonly registry: DriverRegistry,
    private readonly context: NodeDriverContext,
  ) {}

  // async: a driver that cannot be built (unavailable, a failing factory) rejects like a failed call.
  async ensure(role: Role, context: { signal?: AbortSignal }): Promise<void> {
    return this.current().ensure(role, context);
  }

  async changeControlPlane(change: ControlPlaneChange, members: readonly string[], context: { signal?: AbortSignal }): Promise<string[]> {
    return this.current().changeControlPlane(change, members, context);
  }

  /** The current driver's answer; a driver without member state holds any seat it is given. */
  async holdsSeat(context: { signal?: AbortSignal }): Promise<boolean> {
    const driver = this.current();
    return driver.holdsSeat === undefined ? true : driver.holdsSeat(context);
  }

  private current(): RoleDriver {
    const spec = this.activePolicy()?.policy.driver ?? NO_POLICY_DRIVER;
    const built = this.#built.get(spec.name);
    if (built !== undefined) {
      built.spec = spec;
      return built.driver;
    }
    const factory = this.registry[spec.name] as DriverFactory<DriverSpec['settings']> | undefined;
    if (factory === undefined) throw new DriverUnavailableError(spec.name, Object.keys(this.registry));
    const entry = { spec } as Built;
    entry.driver = factory({ ...this.context, settings: () => entry.spec.settings }); // a throw is this call's failure; the next call tries again
    this.#built.set(spec.name, entry);
    return entry.driver;
  }
}
