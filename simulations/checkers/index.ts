/** Every invariant checker, as a scenario run uses them. */
import type { Checker } from './checker.js';
import { ConvergenceChecker } from './convergence.js';
import { DriversReflectChecker } from './drivers-reflect.js';
import { IdenticalAssignmentsChecker } from './identical-assignments.js';
import { ManagersMatchPolicyChecker, type ExpectedOutcome } from './managers-match-policy.js';
import { NoFlappingChecker } from './no-flapping.js';
import { SplitBrainChecker } from './split-brain.js';

export type { Checker, CheckContext, Phase, Violation } from './checker.js';
export { ConvergenceChecker, DriversReflectChecker, IdenticalAssignmentsChecker, ManagersMatchPolicyChecker, NoFlappingChecker, SplitBrainChecker };

export const CHECKER_NAMES = ['identical-assignments', 'managers-match-policy', 'split-brain', 'no-flapping', 'convergence', 'drivers-reflect'] as const;

export function allCheckers(expected: ExpectedOutcome): { checkers: Checker[]; convergence: ConvergenceChecker } {
  const convergence = new ConvergenceChecker();
  return {
    convergence,
    checkers: [new IdenticalAssignmentsChecker(), new SplitBrainChecker(), new NoFlappingChecker(), new DriversReflectChecker(), convergence, new ManagersMatchPolicyChecker(expected)],
  };
}
