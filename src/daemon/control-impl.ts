/** The NodeControl the local API serves, read from a running node. Output shapes only. */
import { isAlive } from '../roles/cluster-view.js';
import type { PaceNode } from '../node/create-node.js';
import type { Clock } from '../seams/clock.js';
import type { ApplyPolicyResult, MemberStatus, NodeControl, NodeStatus } from '../api/node-control.js';
import { formatRejection } from '../signing/signed-policy.js';

export interface ControlInfo {
  name: string;
  cluster: string;
  version: string;
  clock: Clock;
  peers(): number;
  /** Leaves and then stops the daemon. */
  leave(): Promise<void>;
}

export function nodeControl(node: PaceNode, info: ControlInfo): NodeControl {
  const doc = node.state.doc;
  return {
    async status(): Promise<NodeStatus> {
      const converged = await checkConverged(node, info.clock);
      const snap = node.roles.snapshot();
      const desired = snap.assignment?.nodes.find((n) => n.id === node.self)?.role ?? 'none';
      const d = snap.decision;
      const envelope = node.policies.envelope();
      const own = doc.roles()[node.self];
      const phase = own?.phase === 'failed' ? 'failed' : own?.phase === 'changing' ? 'changing' : d.kind === 'control-plane' || d.kind === 'workload' ? 'changing' : d.kind;
      return {
        node: { id: node.self, name: info.name },
        cluster: info.cluster,
        role: snap.role,
        desiredRole: desired,
        phase,
        reason: own?.phase === 'failed' ? (own.detail ?? 'driver failed') : 'reason' in d ? d.reason : '',
        minority: snap.minority,
        converged,
        policy: envelope ? { name: envelope.name, version: envelope.version, signer: envelope.signer } : null,
        rejectedPolicy: node.policies.rejection(),
        managers: snap.assignment?.managers ?? [],
        controlPlane: snap.view?.controlPlane ?? [],
        peers: info.peers(),
        uptimeMs: info.clock.now() - node.startedAt,
        version: info.version,
      };
    },
    members(): MemberStatus[] {
      const snap = node.roles.snapshot();
      const verdicts = doc.verdicts();
      const roles = doc.roles();
      return doc.members().map((m) => ({
        id: m.id,
        name: m.name,
        addresses: m.addresses,
        alive: isAlive(m, verdicts[m.id]),
        left: m.leftAt !== null,
        local: m.id === node.self ? 'alive' : (node.detector.status(m.id)?.status ?? 'unknown'),
        role: roles[m.id]?.role ?? null,
        desiredRole: snap.assignment?.nodes.find((n) => n.id === m.id)?.role ?? 'none',
        facts: m.facts,
        labels: m.labels,
        incarnation: m.incarnation,
      }));
    },
    policy() {
      const e = node.policies.envelope();
      return e ? { name: e.name, version: e.version, signer: e.signer, yaml: e.yaml } : null;
    },
    applyPolicy(envelope: unknown): Promise<ApplyPolicyResult> {
      const result = node.policies.apply(envelope);
      if (!result.ok) return Promise.resolve({ accepted: false, code: result.reason.code, reason: formatRejection(result.reason) });
      const { name, version } = result.active.envelope;
      return Promise.resolve({ accepted: true, name, version });
    },
    leave(): Promise<void> {
      return info.leave();
    },
  };
}

/** How long `status` waits for the sync round that answers "converged?". */
export const STATUS_CONVERGENCE_WAIT_MS = 2_000;

/**
 * Whether this node holds the same document as every peer it reaches, checked actively: one
 * sync turn with each reachable peer (a few hundred bytes each when in sync). The passive view
 * alone is stale on a quiet cluster — a peer announces its heads only when it writes or syncs —
 * so it would say "not converged" long after everyone merged the last change. Bounded: after
 * STATUS_CONVERGENCE_WAIT_MS the passive view answers.
 */
function checkConverged(node: PaceNode, clock: Clock): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = clock.setTimer(STATUS_CONVERGENCE_WAIT_MS, () => resolve(node.state.replicator.convergence().converged));
    node.state.replicator.checkConvergence().then(
      (report) => {
        timer.cancel();
        resolve(report.converged);
      },
      () => {
        timer.cancel();
        resolve(node.state.replicator.convergence().converged);
      },
    );
  });
}
