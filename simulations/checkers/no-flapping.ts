/**
 * Invariant: no role flaps inside the stabilization window — a node's role never changes twice
 * within the policy's stabilization window. Reads the role changes nodes report (a node's first
 * role, from none, is not a change).
 */
import type { Checker, CheckContext } from './checker.js';
import { ViolationLog } from './checker.js';

export class NoFlappingChecker implements Checker {
  readonly name = 'no-flapping';
  readonly #log = new ViolationLog(this.name);
  #seen = 0;
  readonly #last = new Map<string, { time: number; from: string; to: string }>();
  get violations() {
    return this.#log.violations;
  }

  sample(ctx: CheckContext): void {
    const changes = ctx.fleet.roleChanges;
    for (; this.#seen < changes.length; this.#seen++) {
      const c = changes[this.#seen]!;
      if (c.from === null) continue;
      const prev = this.#last.get(c.node);
      if (prev !== undefined && c.time - prev.time < ctx.stabilizationMs) {
        this.#log.report(c.time, `${c.node} changed role ${prev.from} → ${prev.to} at ${prev.time} ms and ${c.from} → ${c.to} at ${c.time} ms, within the ${ctx.stabilizationMs} ms stabilization window`, c.node);
      }
      this.#last.set(c.node, { time: c.time, from: c.from, to: c.to });
    }
  }

  finish(ctx: CheckContext): void {
    this.sample(ctx);
  }
}
