/**
 * Driver seam: how a node performs its role on the cluster software (etcd, k3s, user hooks).
 *
 * This is the minimal form the reconciler and the simulator need; the real drivers' interface
 * grows from it (status, member removal, bootstrap records).
 *
 * Contract:
 * - `ensure(role)` brings this node's software to `role` and resolves when it holds. It is
 *   idempotent (ensuring the role already held is cheap and changes nothing) and re-runnable
 *   after a crash at any point.
 * - It rejects with a {@link DriverError} (stable `name`) when it cannot; the caller retries
 *   later. It rejects with the signal's reason when `context.signal` aborts.
 * - Every external command runs through the injected ProcessRunner with a timeout.
 *
 * Concurrency contract: the caller never runs two `ensure` calls on one driver at once.
 */
import type { Role } from '../policy/types.js';

export interface DriverContext {
  /** Aborts the operation (node shutting down, assignment changed again). */
  signal?: AbortSignal;
}

export interface Driver {
  ensure(role: Role, context: DriverContext): Promise<void>;
}

/** A driver could not bring the node to a role. */
export class DriverError extends Error {
  override readonly name = 'DriverError';
  constructor(readonly role: Role, reason: string, options?: { cause?: unknown }) {
    super(`cannot ensure role ${role}: ${reason}`, options);
  }
}
