/**
 * The `log` driver: performs roles by logging them. No cluster software is managed; the
 * control-plane member list is what PACE itself recorded. Useful to watch a fleet decide
 * (`npm run demo`), in tests, and as the reference for what every driver is asked to do.
 */
import type { Role } from '../policy/types.js';
import type { RoleDriver } from '../roles/driver.js';
import { membersAfter, type ControlPlaneChange } from '../roles/control-plane-plan.js';
import type { StateLogger } from '../state/logger.js';

export class LogDriver implements RoleDriver {
  /** Every action, in order (also logged). */
  readonly actions: string[] = [];

  constructor(private readonly logger: StateLogger) {}

  ensure(role: Role): Promise<void> {
    this.record(`ensure ${role}`);
    return Promise.resolve();
  }

  changeControlPlane(change: ControlPlaneChange, members: readonly string[]): Promise<string[]> {
    const after = membersAfter(change, members);
    this.record(`${change.kind} ${change.node}: control plane [${after.join(', ')}]`);
    return Promise.resolve(after);
  }

  private record(action: string): void {
    this.actions.push(action);
    this.logger.info({ driver: 'log', action }, `driver: ${action}`);
  }
}
