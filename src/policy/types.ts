/**
 * The policy model: what a validated ClusterPolicy means, and the inputs and outputs of
 * `evaluate`. Wire/YAML shapes live in schema.ts; this file is the checked, compiled form.
 */
import type { CompiledExpression } from './cel.js';
import type { DriverSpec } from './driver-settings/index.js';
import type { NodeFacts } from './facts.js';

export const ROLES = ['manager', 'worker', 'manager+worker', 'none'] as const;
export type Role = (typeof ROLES)[number];

/** True for the roles that hold a control-plane seat. */
export function isManagerRole(role: Role | null | undefined): boolean {
  return role === 'manager' || role === 'manager+worker';
}

export { DRIVER_NAMES, type DriverName, type DriverSpec } from './driver-settings/index.js';

/** One step of the manager-count function: from `atLeast` eligible live nodes, run `managers`. */
export interface CountStep {
  atLeast: number;
  managers: number;
}

export type PreferOrder = 'descending' | 'ascending';

export interface PreferCriterion {
  expression: CompiledExpression;
  /** descending: larger (or true) ranks first. */
  order: PreferOrder;
}

/** A policy that passed schema, semantic and CEL checks. Immutable. */
export interface Policy {
  name: string;
  version: number;
  description?: string;
  /** The driver and its settings, parsed at load. */
  driver: DriverSpec;
  managers: {
    /** Sorted by atLeast, strictly increasing; managers odd and non-decreasing. */
    count: readonly CountStep[];
    eligible: CompiledExpression;
    prefer: readonly PreferCriterion[];
    /** Label key to spread managers across, or undefined. */
    spreadBy?: string;
    alsoWorker: boolean;
    sticky: boolean;
  };
  workers: { eligible: CompiledExpression };
  timing: { stabilizationMs: number; failureGraceMs: number };
}

export type { NodeFacts } from './facts.js';

/** One member as the evaluator sees it. */
export interface MemberView {
  id: string;
  facts: NodeFacts;
  labels: Readonly<Record<string, string>>;
  alive: boolean;
  /** The role the node holds now (for stickiness), or null when it has none yet. */
  role: Role | null;
  /**
   * Its control-plane software failed too many changes in a row (the view sets it from the
   * node's role record): it ranks after every other eligible node for a seat it does not hold.
   * @default false
   */
  passedOver?: boolean;
}

/** The converged view a node evaluates: every member it knows, dead or alive. */
export interface Snapshot {
  members: readonly MemberView[];
}

/** The evaluator's verdict for one node. */
export interface NodeDecision {
  id: string;
  role: Role;
  /** One line for tables: the decisive reason. */
  summary: string;
  /** Every step that led to the role, in order. */
  reasons: string[];
}

export interface Assignment {
  policy: { name: string; version: number };
  /** Managers the count function asks for, given the eligible live nodes. */
  target: number;
  /** Live nodes that pass `managers.eligible`. */
  eligibleLive: number;
  /** Ids of the chosen managers, sorted. */
  managers: string[];
  /** The same managers in the order their seats were filled (sticky seats first, then by rank). */
  seatOrder: string[];
  /** Eligible live nodes passed over for a new seat (MemberView.passedOver), ranked after every other, sorted. */
  passedOver: string[];
  /** One decision per member, sorted by id. */
  nodes: NodeDecision[];
  /** Fleet-level steps of the evaluation (what `pace policy explain` prints first). */
  steps: string[];
}
