/**
 * A scripted {@link NodeControl} for the control API tests (the real daemon is tested
 * elsewhere). Status and members are fixed sample data; `applyPolicy` accepts an envelope
 * whose `signature` is `"good"` and a higher version than the active one, and rejects anything
 * else with the code a real node would use; `failing` makes a method throw.
 */
import type { ApplyPolicyResult, MemberStatus, NodeControl, NodeStatus } from '../../src/api/node-control.js';

export type FakeMethod = 'status' | 'members' | 'policy' | 'applyPolicy' | 'leave';

export class FakeNodeControl implements NodeControl {
  /** Methods that throw `Error('<method> exploded')` when called. */
  readonly failing = new Set<FakeMethod>();
  /** Every envelope applyPolicy received, in order. */
  readonly applied: unknown[] = [];
  leaves = 0;
  active: { name: string; version: number; signer: string; yaml: string } | null = {
    name: 'site-ha',
    version: 3,
    signer: 'a1b2c3d4e5f60718',
    yaml: 'apiVersion: pace/v1\nkind: ClusterPolicy\nmetadata: { name: site-ha, version: 3 }\n',
  };

  status(): NodeStatus {
    this.#maybeFail('status');
    return sampleStatus(this.active);
  }

  members(): MemberStatus[] {
    this.#maybeFail('members');
    return sampleMembers();
  }

  policy(): { name: string; version: number; signer: string; yaml: string } | null {
    this.#maybeFail('policy');
    return this.active;
  }

  async applyPolicy(envelope: unknown): Promise<ApplyPolicyResult> {
    this.#maybeFail('applyPolicy');
    this.applied.push(envelope);
    await Promise.resolve();
    if (typeof envelope !== 'object' || envelope === null || !('name' in envelope) || !('version' in envelope) || !('signature' in envelope)) {
      return { accepted: false, code: 'malformed', reason: 'not a signed policy envelope' };
    }
    const { name, version, signature } = envelope;
    if (typeof name !== 'string' || typeof version !== 'number') return { accepted: false, code: 'malformed', reason: 'name or version of the wrong type' };
    if (signature !== 'good') return { accepted: false, code: 'bad-signature', reason: 'the signature does not verify with trusted key a1b2c3d4e5f60718' };
    if (this.active && version <= this.active.version) {
      return { accepted: false, code: 'stale-version', reason: `version ${version} is not above the active version ${this.active.version}` };
    }
    this.active = { name, version, signer: 'a1b2c3d4e5f60718', yaml: `metadata: { name: ${name}, version: ${version} }\n` };
    return { accepted: true, name, version };
  }

  async leave(): Promise<void> {
    this.#maybeFail('leave');
    await Promise.resolve();
    this.leaves++;
  }

  #maybeFail(method: FakeMethod): void {
    if (this.failing.has(method)) throw new Error(`${method} exploded`);
  }
}

export function sampleStatus(policy: { name: string; version: number; signer: string } | null): NodeStatus {
  return {
    node: { id: '12D3KooWEdge01', name: 'edge-01' },
    cluster: 'site-a',
    role: 'manager+worker',
    desiredRole: 'manager+worker',
    phase: 'idle',
    reason: 'role matches the policy',
    minority: false,
    converged: true,
    policy: policy ? { name: policy.name, version: policy.version, signer: policy.signer } : null,
    rejectedPolicy: { name: 'site-ha', version: 2, reason: 'stale-version: version 2 is not above the active version 3' },
    managers: ['edge-01', 'edge-02', 'edge-03'],
    controlPlane: ['edge-01', 'edge-02', 'edge-03'],
    peers: 3,
    uptimeMs: 3_723_456,
    version: '0.1.0',
  };
}

export function sampleMembers(): MemberStatus[] {
  const facts = { cpus: 4, memoryMB: 4096, diskGB: 64, arch: 'amd64' };
  return [
    { id: '12D3KooWEdge02', name: 'edge-02', addresses: ['/ip4/10.0.0.2/tcp/7946'], alive: true, left: false, local: 'suspect', role: 'manager+worker', desiredRole: 'manager+worker', facts, labels: {}, incarnation: 2 },
    { id: '12D3KooWEdge01', name: 'edge-01', addresses: ['/ip4/10.0.0.1/tcp/7946'], alive: true, left: false, local: 'alive', role: 'manager+worker', desiredRole: 'manager+worker', facts, labels: { zone: 'a' }, incarnation: 1 },
    { id: '12D3KooWEdge04', name: 'edge-04', addresses: [], alive: false, left: false, local: 'down', role: 'worker', desiredRole: 'none', facts, labels: {}, incarnation: 5 },
  ];
}
