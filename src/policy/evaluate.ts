/**
 * `evaluate(policy, snapshot)`: the pure, deterministic heart of PACE. Every node runs it over
 * the same converged view and reaches the same assignment, so no leader is needed.
 *
 * No clock, no randomness, no I/O. Members are sorted by id first, so input order never
 * matters; every tie breaks by node id.
 *
 * The algorithm:
 *  1. Live nodes whose `managers.eligible` is true are the eligible set; E = its size.
 *  2. The count step with the largest `atLeast <= E` gives the target T (0 below every step).
 *     Steps never ask for more managers than `atLeast`, so T <= E.
 *  3. Eligible nodes are ranked by the `prefer` criteria (lexicographic; an expression error
 *     ranks last for that criterion), then by id.
 *  4. Seats are filled one at a time. With `sticky`, current managers that are still live and
 *     eligible are considered first, then everyone else. Within each group the next seat goes
 *     to the best-ranked candidate in the `spreadBy` group that holds the fewest seats so far
 *     (water-filling), which spreads managers as evenly as the fleet allows.
 *  5. Managers become `manager+worker` when `alsoWorker` is set and they pass
 *     `workers.eligible`; other live nodes passing `workers.eligible` are workers; the rest,
 *     and every dead node, get `none`.
 *
 * Consequences the property tests check: adding a node never demotes a live manager (sticky);
 * one manager dying changes exactly |T' - (T - 1)| other roles (one promotion when T holds).
 */
import { celNode, type CompiledExpression, type ExpressionResult } from './cel.js';
import type { Assignment, MemberView, NodeDecision, Policy, Role, Snapshot } from './types.js';
import { isManagerRole } from './types.js';

/** Label value used for spreading when a node lacks the `spreadBy` label. */
export const UNLABELLED = '(unlabelled)';

export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

interface Candidate {
  member: MemberView;
  rank: number;
  scores: (number | undefined)[];
  group: string;
  incumbent: boolean;
}

export function evaluate(policy: Policy, snapshot: Snapshot): Assignment {
  const members = [...snapshot.members].sort((a, b) => compareIds(a.id, b.id));
  for (let i = 1; i < members.length; i++) {
    if (members[i]?.id === members[i - 1]?.id) throw new SnapshotError(`duplicate member id '${members[i]?.id}'`);
  }
  const reasons = new Map<string, string[]>(members.map((m) => [m.id, []]));
  const say = (id: string, line: string): void => void reasons.get(id)?.push(line);
  const { managers: mp } = policy;
  const steps: string[] = [];

  // 1. Liveness and eligibility.
  const eligible: MemberView[] = [];
  const workerOk = new Map<string, boolean>();
  for (const m of members) {
    if (!m.alive) {
      say(m.id, isManagerRole(m.role) ? 'not alive (was a manager): its seat is freed' : 'not alive');
      continue;
    }
    const node = celNode(m.id, m.facts, m.labels);
    const e = mp.eligible.evaluate(node);
    say(m.id, `manager eligibility \`${mp.eligible.source}\` → ${describeResult(e)}`);
    if (e.ok && e.value === true) eligible.push(m);
    else if (isManagerRole(m.role)) say(m.id, 'was a manager but is no longer eligible: loses its seat');
    const w = policy.workers.eligible.evaluate(node);
    workerOk.set(m.id, w.ok && w.value === true);
  }
  const alive = members.filter((m) => m.alive).length;
  steps.push(`${members.length} member(s), ${alive} alive, ${eligible.length} eligible for manager (\`${mp.eligible.source}\`)`);

  // 2. Target from the count function.
  const step = [...mp.count].reverse().find((s) => s.atLeast <= eligible.length);
  const target = step ? step.managers : 0;
  steps.push(
    step
      ? `count step atLeast ${step.atLeast} applies to ${eligible.length} eligible: ${target} manager(s)`
      : `no count step applies below ${mp.count[0]?.atLeast ?? 1} eligible node(s): 0 managers`,
  );

  // 3. Ranking.
  // A node whose control-plane software kept failing to take a seat goes to the back of the
  // line for a new one: the seat goes to the next candidate, and to it only when no other is
  // left. It still counts for the target, so passing it over never shrinks the control plane.
  const passedOver = eligible.filter((m) => m.passedOver === true && !isManagerRole(m.role)).map((m) => m.id);
  for (const id of passedOver) say(id, 'passed over: its control-plane software failed to take a seat several times in a row, so it ranks after every other eligible node (until it restarts)');
  if (passedOver.length > 0) steps.push(`passed over, ranked last (their control-plane software failed to take a seat): ${passedOver.join(', ')}`);
  const candidates = rank(policy, eligible, new Set(passedOver));
  if (candidates.length > 0) {
    const criteria = mp.prefer.length > 0 ? mp.prefer.map((p) => `${p.expression.source} (${p.order})`).join(', ') : 'none';
    steps.push(`ranking by prefer [${criteria}], then id: ${candidates.map((c) => c.member.id).join(', ')}`);
  }
  for (const c of candidates) {
    const scores = mp.prefer.length > 0 ? ` with scores [${c.scores.map((s) => (s === undefined ? 'error' : String(s))).join(', ')}]` : '';
    say(c.member.id, `ranked ${c.rank} of ${candidates.length} eligible${scores}`);
  }

  // 4. Seat selection.
  const selected = selectSeats(policy, candidates, target, new Set(passedOver), steps, say);
  const managerIds = new Set(selected.map((c) => c.member.id));

  // 5. Roles.
  const nodes: NodeDecision[] = members.map((m) => {
    const lines = reasons.get(m.id) ?? [];
    const role = finalRole(policy, m, managerIds.has(m.id), workerOk.get(m.id) ?? false, lines);
    return { id: m.id, role, summary: summarize(m, role, lines), reasons: lines };
  });
  steps.push(`managers: ${[...managerIds].sort(compareIds).join(', ') || '(none)'}`);
  return {
    policy: { name: policy.name, version: policy.version },
    target,
    eligibleLive: eligible.length,
    managers: [...managerIds].sort(compareIds),
    seatOrder: selected.map((c) => c.member.id),
    passedOver,
    nodes,
    steps,
  };
}

function rank(policy: Policy, eligible: MemberView[], last: ReadonlySet<string>): Candidate[] {
  const { prefer, spreadBy } = policy.managers;
  const scored = eligible.map((member) => {
    const node = celNode(member.id, member.facts, member.labels);
    const scores = prefer.map((p) => score(p.expression, node));
    const group = spreadBy === undefined ? '' : (member.labels[spreadBy] ?? UNLABELLED);
    return { member, scores, group, incumbent: isManagerRole(member.role), rank: 0 };
  });
  scored.sort((a, b) => {
    const behind = Number(last.has(a.member.id)) - Number(last.has(b.member.id));
    if (behind !== 0) return behind;
    for (let i = 0; i < prefer.length; i++) {
      const descending = prefer[i]?.order !== 'ascending';
      const x = a.scores[i];
      const y = b.scores[i];
      if (x === y) continue;
      if (x === undefined) return 1; // an expression error ranks last
      if (y === undefined) return -1;
      return descending ? y - x : x - y;
    }
    return compareIds(a.member.id, b.member.id);
  });
  scored.forEach((c, i) => (c.rank = i + 1));
  return scored;
}

function score(expression: CompiledExpression, node: ReturnType<typeof celNode>): number | undefined {
  const r = expression.evaluate(node);
  if (!r.ok) return undefined;
  return typeof r.value === 'boolean' ? (r.value ? 1 : 0) : r.value;
}

function selectSeats(
  policy: Policy,
  candidates: Candidate[],
  target: number,
  passedOver: ReadonlySet<string>,
  steps: string[],
  say: (id: string, line: string) => void,
): Candidate[] {
  const { sticky, spreadBy } = policy.managers;
  const seats = new Map<string, number>();
  const selected: Candidate[] = [];
  const leftOver: Candidate[] = [];
  const last = candidates.filter((c) => passedOver.has(c.member.id));
  const rest = candidates.filter((c) => !passedOver.has(c.member.id));
  // Passed-over nodes are a pool of their own, after every other: not even spreading seats over
  // `spreadBy` groups hands one a seat while another candidate is left.
  const pools = [
    ...(sticky
      ? [
          { name: 'current managers (sticky)', members: rest.filter((c) => c.incumbent) },
          { name: 'other eligible nodes', members: rest.filter((c) => !c.incumbent) },
        ]
      : [{ name: 'eligible nodes', members: rest }]),
    { name: 'passed-over nodes', members: last },
  ];

  for (const pool of pools) {
    const remaining = [...pool.members];
    const chosen: string[] = [];
    while (selected.length < target && remaining.length > 0) {
      let best = 0;
      if (spreadBy !== undefined) {
        for (let i = 1; i < remaining.length; i++) {
          if ((seats.get(remaining[i]!.group) ?? 0) < (seats.get(remaining[best]!.group) ?? 0)) best = i;
        }
      }
      const c = remaining.splice(best, 1)[0]!;
      const held = seats.get(c.group) ?? 0;
      const spreadNote = spreadBy === undefined ? '' : ` (${spreadBy}=${c.group} held ${held} seat(s), the fewest among candidates)`;
      say(c.member.id, `${c.incumbent && sticky ? 'keeps its manager seat' : 'takes a manager seat'} ${selected.length + 1} of ${target} from ${pool.name}${spreadNote}`);
      seats.set(c.group, held + 1);
      selected.push(c);
      chosen.push(c.member.id);
    }
    if (chosen.length > 0) steps.push(`${pool.name}: ${chosen.join(', ')}`);
    leftOver.push(...remaining);
  }
  const kept = sticky ? selected.filter((c) => c.incumbent).length : 0;
  const others = `${spreadBy === undefined ? 'better-ranked' : `better-ranked or better-spread (${spreadBy})`} nodes`;
  for (const c of leftOver) {
    if (target === 0) say(c.member.id, 'not a manager: this fleet size asks for no managers');
    else if (kept > 0) say(c.member.id, `not a manager: all ${target} seat(s) taken (${kept} kept by current managers, ${target - kept} by ${others})`);
    else say(c.member.id, `not a manager: all ${target} seat(s) taken by ${others}`);
  }
  if (spreadBy !== undefined && selected.length > 0) {
    const spread = [...seats.entries()].sort(([a], [b]) => compareIds(a, b)).map(([g, n]) => `${g}=${n}`);
    steps.push(`spread by ${spreadBy}: ${spread.join(', ')}`);
  }
  return selected;
}

function finalRole(policy: Policy, m: MemberView, manager: boolean, workerOk: boolean, lines: string[]): Role {
  if (!m.alive) return 'none';
  if (manager) {
    if (!policy.managers.alsoWorker) return 'manager';
    if (workerOk) {
      lines.push('managers also run workloads (alsoWorker) → manager+worker');
      return 'manager+worker';
    }
    lines.push('alsoWorker is set but the node fails workers.eligible → manager only');
    return 'manager';
  }
  lines.push(`worker eligibility \`${policy.workers.eligible.source}\` → ${workerOk}`);
  return workerOk ? 'worker' : 'none';
}

function summarize(m: MemberView, role: Role, lines: string[]): string {
  if (!m.alive) return 'not alive';
  const seat = lines.find((l) => l.startsWith('keeps its manager seat') || l.startsWith('takes a manager seat'));
  if (seat) return seat;
  const lost = lines.find((l) => l.startsWith('not a manager') || l.startsWith('was a manager') || l.startsWith('passed over'));
  if (lost) return lost;
  const ineligible = lines.find((l) => l.startsWith('manager eligibility'));
  return role === 'none' ? 'not eligible for any role' : (ineligible ?? 'worker');
}

function describeResult(r: ExpressionResult): string {
  return r.ok ? String(r.value) : `error (${r.error}), treated as false`;
}

/** Ordering of node ids: plain code-unit order, identical on every platform and locale. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
