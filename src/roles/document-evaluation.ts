/**
 * The evaluation of one document content under one policy: the cluster view, the recorded
 * control plane and `evaluate(policy, view)`. A pure function of (document content, policy),
 * so it is cached by their keys in a process-wide {@link ContentCache}: a node re-evaluating
 * an unchanged document (its periodic tick) costs a lookup, and in a simulated fleet every
 * node holding the same document shares one evaluation instead of each parsing N members and
 * running N CEL evaluations.
 */
import { evaluate } from '../policy/evaluate.js';
import { isManagerRole, type Assignment } from '../policy/types.js';
import type { ClusterDoc } from '../state/cluster-doc.js';
import { ContentCache } from '../util/content-cache.js';
import { buildClusterView, type ClusterView } from './cluster-view.js';
import { CONTROL_PLANE_DRIVER, CONTROL_PLANE_KEY, parseControlPlane, type ControlPlaneRecord } from './control-plane-record.js';
import type { ActivePolicy } from './active-policy.js';

export interface DocumentEvaluation {
  view: ClusterView;
  controlPlane: ControlPlaneRecord;
  /** Undefined without an active policy. */
  assignment: Assignment | undefined;
}

const evaluations = new ContentCache<DocumentEvaluation>(64);

/**
 * `evaluate` results by everything they depend on: the view's digest (the policy, and every
 * member's facts, labels and liveness) and which members hold a seat — the only use `evaluate`
 * makes of roles (incumbency). A content that differs only in role records that move no seat
 * (every node recording its role after a policy lands) reuses the assignment: in a simulated
 * 1,000-node fleet each such content had cost an evaluation of every member.
 */
const assignments = new ContentCache<Assignment>(64);

/** The view and assignment of `doc`'s current content under `active` (shared; do not mutate). */
export function evaluateDocument(doc: ClusterDoc, active: ActivePolicy | undefined): DocumentEvaluation {
  return evaluations.getOrCompute(`${doc.contentKey()}|${active?.key ?? ''}`, () => {
    const controlPlane = parseControlPlane(doc.driverRecords(CONTROL_PLANE_DRIVER)[CONTROL_PLANE_KEY]);
    const view = buildClusterView({ members: doc.members(), verdicts: doc.verdicts(), roles: doc.roles(), controlPlane, policyKey: active?.key ?? '' });
    if (active === undefined) return { view, controlPlane, assignment: undefined };
    const seated = view.members.filter((m) => isManagerRole(m.role)).map((m) => m.id);
    const assignment = assignments.getOrCompute(`${view.digest}|${seated.join(',')}`, () => evaluate(active.policy, { members: view.members }));
    return { view, controlPlane, assignment };
  });
}
