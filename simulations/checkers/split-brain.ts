/**
 * Invariants: never two disjoint manager sets making control-plane changes at once (no split
 * brain); a minority partition makes no control-plane change.
 *
 * Judged when a node's driver STARTS a control-plane change, against the harness's ground truth
 * of who can reach whom at that instant:
 *  - minority: the actor's side of the network (itself and every started node it can reach both
 *    ways) must hold a majority of the control plane it acted on (`members`), unless it
 *    bootstraps an empty one;
 *  - disjoint sets: within one network epoch (between two partition/heal changes), changes
 *    made from two different sides on overlapping control planes — two halves of one cluster
 *    acting independently.
 */
import { quorumOf } from '../../src/roles/control-plane-plan.js';
import type { DriverCallEvent } from '../fleet/sim-fleet.js';
import type { Checker, CheckContext } from './checker.js';
import { ViolationLog } from './checker.js';

interface Acted {
  time: number;
  node: string;
  side: Set<string>;
  members: readonly string[];
}

export class SplitBrainChecker implements Checker {
  readonly name = 'split-brain';
  readonly #log = new ViolationLog(this.name);
  #epochKey = '';
  #acted: Acted[] = [];
  get violations() {
    return this.#log.violations;
  }

  driverCall(ctx: CheckContext, event: DriverCallEvent): void {
    if (event.call.kind !== 'control-plane') return;
    const { fleet } = ctx;
    const net = fleet.world.network;
    const change = event.call.change;
    const members = event.members ?? [];
    const side = new Set([event.node, ...fleet.liveNodes().map((n) => n.id).filter((id) => id !== event.node && net.reachable(event.node, id))]);
    const what = `${change.kind} of ${change.node} by ${event.node} on control plane [${members.join(', ')}]`;
    if (change.kind !== 'bootstrap') {
      const reached = members.filter((m) => side.has(m)).length;
      if (reached < quorumOf(members.length)) {
        this.#log.report(event.time, `minority control-plane change: ${what}; its side reaches ${reached} of ${members.length} members (quorum ${quorumOf(members.length)})`, event.node);
      }
    }
    // A new partition layout starts a new epoch.
    const epochKey = netDescription(ctx);
    if (epochKey !== this.#epochKey) {
      this.#epochKey = epochKey;
      this.#acted = [];
    }
    for (const other of this.#acted) {
      if (other.side.has(event.node)) continue;
      if (!other.members.some((m) => members.includes(m))) continue; // different clusters (e.g. islands)
      this.#log.report(event.time, `two sides changed one control plane during one partition: ${what}, while ${other.node} (another side) changed [${other.members.join(', ')}] at ${other.time} ms`, event.node);
      break;
    }
    this.#acted.push({ time: event.time, node: event.node, side, members });
  }
}

/** Which pairs of live nodes can reach each other, as a stable string (the network epoch). */
function netDescription(ctx: CheckContext): string {
  const live = ctx.fleet.liveNodes().map((n) => n.id);
  const net = ctx.fleet.world.network;
  // Components of the reachability graph; cheap enough at the rate control-plane changes happen.
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const id of live) {
    if (seen.has(id)) continue;
    const comp = [id];
    seen.add(id);
    for (const other of live) {
      if (!seen.has(other) && net.reachable(id, other)) {
        seen.add(other);
        comp.push(other);
      }
    }
    parts.push(comp.sort().join(','));
  }
  return parts.sort().join('|');
}
