/**
 * PolicyStore: which signed policy is active on this node, kept in step with the document.
 *
 * The document holds one policy envelope (a last-writer-wins slot). Every node verifies what it
 * reads there against its trusted operator keys and keeps the best valid policy it has seen:
 * the highest version, and between two different envelopes with the same version the first by
 * a fixed order (comparePolicies: lower yaml-sha256, then signer, then signature), so concurrent
 * pushes — or one policy signed by two keys — converge to one envelope on every node. When the slot holds something worse — an older version, the losing side of a tie,
 * or an envelope that does not verify — the node writes its best back, so the document itself
 * converges to the best policy any node has seen.
 *
 * A rejected policy never replaces the active one; the last rejection is kept for `pace status`.
 */
import { choosePolicy, comparePolicies, formatRejection, sameEnvelope, SIGNED_POLICY_FORMAT, verifyPolicyEnvelope, yamlDigest, type AcceptedPolicy, type ChooseResult, type PolicyRejection, type SignedPolicyEnvelope } from '../signing/signed-policy.js';
import type { OperatorPublicKey } from '../signing/operator-key.js';
import type { ClusterDoc } from '../state/cluster-doc.js';
import type { StateLogger } from '../state/logger.js';
import type { ActivePolicy } from '../roles/active-policy.js';

export interface Rejection {
  name: string;
  version: number;
  reason: string;
}

export class PolicyStore {
  private best: AcceptedPolicy | undefined;
  /** `active()` of `best`, built once per adoption (it hashes the YAML). */
  private activeView: ActivePolicy | undefined;
  private lastRejection: Rejection | null = null;
  private lastRejectedKey = '';
  private readonly listeners = new Set<() => void>();

  private trustedKeys: readonly OperatorPublicKey[];

  constructor(private readonly deps: { doc: ClusterDoc; trustedKeys: readonly OperatorPublicKey[]; logger: StateLogger }) {
    this.trustedKeys = deps.trustedKeys;
  }

  /**
   * Replaces the trusted keys (config reload). The active policy stays active even if its
   * signer is no longer trusted — a node never drops to "no policy" — but nothing new from that
   * signer is accepted; the document's slot is re-read under the new keys.
   */
  setTrustedKeys(keys: readonly OperatorPublicKey[]): void {
    this.trustedKeys = keys;
    this.lastRejectedKey = '';
    this.sync();
  }

  /** The active policy for evaluation, if any. */
  active(): ActivePolicy | undefined {
    return this.activeView;
  }

  envelope(): SignedPolicyEnvelope | undefined {
    return this.best?.envelope;
  }

  rejection(): Rejection | null {
    return this.lastRejection;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Reads the document's policy slot; adopts it if better, and writes the best policy back when
   * the slot is empty or holds a valid but worse one. An envelope this node cannot verify is
   * left alone: another node may trust its signer, and rewriting it would make two
   * differently-configured nodes overwrite each other forever.
   */
  sync(): void {
    const stored = this.deps.doc.policy();
    const envelope: SignedPolicyEnvelope | undefined = stored === undefined ? undefined : { format: SIGNED_POLICY_FORMAT, ...stored };
    if (envelope === undefined) {
      if (this.best) this.write(this.best.envelope);
      return;
    }
    if (this.best && sameEnvelope(this.best.envelope, envelope)) return;
    const verified = verifyPolicyEnvelope(envelope, this.trustedKeys);
    if (!verified.ok) {
      this.reject(envelope, verified.reason, 'in the cluster document');
    } else if (!this.best || better(verified, this.best)) {
      this.adopt(verified);
    } else {
      this.write(this.best.envelope);
    }
  }

  /**
   * A policy pushed into this node (`pace policy apply`): verified, chosen over the active one
   * by {@link choosePolicy} (a higher version wins; the same one again changes nothing), then
   * gossiped through the document.
   */
  apply(envelope: unknown): ChooseResult {
    const verified = verifyPolicyEnvelope(envelope, this.trustedKeys);
    const chosen = verified.ok ? choosePolicy(this.best, verified) : verified;
    if (!chosen.ok) {
      this.reject(envelope, chosen.reason, 'pushed to this node');
      return chosen;
    }
    if (chosen.changed) {
      this.adopt(chosen.active);
      this.write(chosen.active.envelope);
    }
    return chosen;
  }

  private adopt(accepted: AcceptedPolicy): void {
    this.best = accepted;
    const e = accepted.envelope;
    this.activeView = { policy: accepted.policy, key: `${e.name}@${e.version}:${e.signer}:${yamlDigest(e.yaml).slice(0, 16)}` };
    this.deps.logger.info({ policy: accepted.envelope.name, version: accepted.envelope.version, signer: accepted.envelope.signer }, 'policy activated');
    for (const l of this.listeners) l();
  }

  private write(envelope: SignedPolicyEnvelope): void {
    const { format: _format, ...stored } = envelope;
    this.deps.doc.writePolicy(stored);
  }

  private reject(envelope: unknown, reason: PolicyRejection, where: string): void {
    const e = (typeof envelope === 'object' && envelope !== null ? envelope : {}) as { name?: unknown; version?: unknown; signature?: unknown };
    const key = `${String(e.signature)}|${reason.code}`;
    if (key === this.lastRejectedKey) return; // the same envelope seen again: said once is enough
    this.lastRejectedKey = key;
    const name = typeof e.name === 'string' ? e.name : '?';
    const version = typeof e.version === 'number' ? e.version : 0;
    this.lastRejection = { name, version, reason: formatRejection(reason) };
    this.deps.logger.warn({ policy: name, version, code: reason.code }, `policy rejected (${where}): ${formatRejection(reason)}`);
  }
}

function better(candidate: AcceptedPolicy, current: AcceptedPolicy): boolean {
  return comparePolicies(candidate.envelope, current.envelope) < 0;
}
