/**
 * The `exec` driver: performs roles by running the operator's hook scripts, like Serf's event
 * handlers. The contract (docs/HOOKS.md):
 *
 *  - A hook is an executable named after the event in `hooksDir`: `role` (this node's role
 *    must hold), and `bootstrap`, `promote`, `demote`, `remove` (a control-plane change this
 *    node performs). A missing hook means there is nothing to do for that event.
 *  - Environment: PACE_EVENT, PACE_ROLE (for `role`), PACE_NODE (the node the change is
 *    about), PACE_SELF, PACE_MEMBERS (comma-separated control-plane members before the change).
 *  - stdin: the same as JSON: `{ "event", "role"?, "node"?, "self", "members" }`.
 *  - Exit 0 is success; anything else (or running past the timeout) is a failure that PACE
 *    records and retries. For control-plane hooks, stdout may print the member list the cluster
 *    software reports afterwards, as a JSON array of node ids; otherwise PACE records the list
 *    it computes. Output is capped (ProcessRunner) and never executed by a shell.
 */
import { join } from 'node:path';
import type { Role } from '../policy/types.js';
import type { ControlPlaneChange } from '../roles/control-plane-plan.js';
import { membersAfter } from '../roles/control-plane-plan.js';
import type { RoleDriver } from '../roles/driver.js';
import { ProcessStartError, type ProcessResult, type ProcessRunner } from '../seams/process-runner.js';
import type { StateLogger } from '../state/logger.js';
import type { ExecSettings } from '../policy/driver-settings/exec.js';

export class HookFailedError extends Error {
  override readonly name = 'HookFailedError';
  constructor(readonly hook: string, readonly result: ProcessResult) {
    const why = result.timedOut ? `timed out after ${result.durationMs} ms` : result.signal ? `killed by ${result.signal}` : `exited ${result.exitCode}`;
    const tail = result.stderr.trim().split('\n').slice(-3).join(' | ');
    super(`hook ${hook} ${why}${tail ? `: ${tail}` : ''}`);
  }
}

export class ExecDriver implements RoleDriver {
  constructor(
    private readonly settings: () => ExecSettings,
    private readonly deps: { runner: ProcessRunner; logger: StateLogger; self: () => string },
  ) {}

  async ensure(role: Role, context: { signal?: AbortSignal }): Promise<void> {
    await this.run('role', { PACE_ROLE: role }, { role }, [], context);
  }

  async changeControlPlane(change: ControlPlaneChange, members: readonly string[], context: { signal?: AbortSignal }): Promise<string[]> {
    const stdout = await this.run(change.kind, { PACE_NODE: change.node }, { node: change.node }, members, context);
    const reported = parseMemberList(stdout);
    return reported ?? membersAfter(change, members);
  }

  /** Runs one hook; resolves with its stdout, or undefined when there is no such hook. */
  private async run(event: string, env: Record<string, string>, payload: Record<string, string>, members: readonly string[], context: { signal?: AbortSignal }): Promise<string | undefined> {
    const { hooksDir, timeoutMs } = this.settings();
    const command = join(hooksDir, event);
    const self = this.deps.self();
    let result: ProcessResult;
    try {
      result = await this.deps.runner.run(
        {
          command,
          env: { PACE_EVENT: event, PACE_SELF: self, PACE_MEMBERS: members.join(','), ...env },
          input: `${JSON.stringify({ event, self, members, ...payload })}\n`,
          timeoutMs,
        },
        context,
      );
    } catch (err) {
      if (err instanceof ProcessStartError && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
        this.deps.logger.info({ hook: command }, `no ${event} hook: nothing to do`);
        return undefined;
      }
      throw err;
    }
    if (result.exitCode !== 0) throw new HookFailedError(command, result);
    this.deps.logger.info({ hook: command, ms: result.durationMs }, `hook ${event} succeeded`);
    return result.stdout;
  }
}

function parseMemberList(stdout: string | undefined): string[] | undefined {
  const text = stdout?.trim();
  if (!text || !text.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.every((v): v is string => typeof v === 'string')) return [...new Set(value)].sort();
  } catch {
    // not a member list: PACE records the list it computed
  }
  return undefined;
}
