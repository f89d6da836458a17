/**
 * The driver interface the role loop calls (RoleDriver), and how a node is given its drivers:
 * a registry of factories, one per driver name, each building the driver for one node from a
 * DriverContext. The node (src/node/) builds the driver the active policy names on first use
 * and routes every call to it; drivers (src/drivers/, the simulator's fake) implement this.
 */
import type { DriverName, DriverSpec, Role } from '../policy/types.js';
import type { StateLogger } from '../state/logger.js';
import type { ControlPlaneChange } from './control-plane-plan.js';

/** What the controller needs from the driver performing the role. */
export interface RoleDriver {
  /** Makes this node's workload role hold (idempotent). */
  ensure(role: Role, context: { signal?: AbortSignal }): Promise<void>;
  /**
   * Performs one control-plane change (this node is its actor) and returns the control-plane
   * members the cluster software reports afterwards.
   */
  changeControlPlane(change: ControlPlaneChange, members: readonly string[], context: { signal?: AbortSignal }): Promise<string[]>;
  /**
   * Whether this node's control-plane software still holds its member state (etcd: the member's
   * data dir). Asked before a node recorded in the control plane makes its manager role hold: a
   * node that lost it — a disk replaced or wiped while it was away, too briefly to be declared
   * down — cannot serve its seat by restarting, and rejoins instead (SEAT_LOST_PHASE). Drivers
   * without member state leave it out.
   */
  holdsSeat?(context: { signal?: AbortSignal }): Promise<boolean>;
}

/** What a node gives the driver it builds. Every function reads the node's state at call time. */
export interface DriverContext<Settings> {
  /** This node's id (its peer id): the name of its member in the control-plane software. */
  readonly self: string;
  /** The PACE cluster name. */
  readonly cluster: string;
  readonly logger: StateLogger;
  /** The active policy's settings for this driver, parsed when the policy was loaded; they follow policy updates. */
  settings(): Settings;
  /** The addresses this node advertises (multiaddrs of its mesh). */
  addresses(): readonly string[];
  /** The addresses in another member's record (where its control-plane software is reached), or none. */
  memberAddresses(id: string): readonly string[];
}

/** The settings type of the driver called `Name`. */
export type SettingsOf<Name extends DriverName> = Extract<DriverSpec, { name: Name }>['settings'];

/**
 * Builds one node's driver, when a policy first names it; the node keeps what it returns for its
 * life. A factory that throws fails that call (the role loop retries), and is called again next time.
 */
export type DriverFactory<Settings> = (context: DriverContext<Settings>) => RoleDriver;

/** The drivers a node can run, by the name a policy gives them; a name left out is unavailable. */
export type DriverRegistry = { readonly [Name in DriverName]?: DriverFactory<SettingsOf<Name>> };
