/**
 * What the local control API exposes of a running node. The daemon implements it over the
 * live node (src/daemon/control-impl.ts); the API server serves it over HTTP; CLI commands are
 * thin clients.
 * These are output shapes, kept apart from internal types so the internals can change
 * without breaking `--json` users.
 */
import type { Role } from '../policy/types.js';

export interface NodeStatus {
  node: { id: string; name: string };
  cluster: string;
  /** This node's role now (what its driver performs), and what the policy wants. */
  role: Role | null;
  desiredRole: Role;
  /** idle | waiting | minority | changing | failed — with the reason. */
  phase: string;
  reason: string;
  /** True when this node cannot reach a majority of the control plane (makes no changes). */
  minority: boolean;
  /** This node holds the same document as every peer it reaches (checked by a sync round when asked). */
  converged: boolean;
  policy: { name: string; version: number; signer: string } | null;
  /** The last policy this node refused, and why (null when none). */
  rejectedPolicy: { name: string; version: number; reason: string } | null;
  managers: string[];
  controlPlane: string[];
  peers: number;
  uptimeMs: number;
  version: string;
}

export interface MemberStatus {
  id: string;
  name: string;
  addresses: string[];
  /** Liveness as the document records it (converged), and as this node's detector sees it. */
  alive: boolean;
  /** The member left gracefully (`pace leave`, SIGINT). */
  left: boolean;
  local: 'alive' | 'suspect' | 'down' | 'left' | 'unknown';
  role: Role | null;
  desiredRole: Role;
  facts: { cpus: number; memoryMB: number; diskGB: number; arch: string };
  labels: Record<string, string>;
  incarnation: number;
}

/** The node's answer to a pushed policy: accepted, or the rejection's code and reason. */
export type ApplyPolicyResult =
  | { accepted: true; name: string; version: number }
  | { accepted: false; code: string; reason: string };

export interface NodeControl {
  /** May be async: the daemon checks convergence with its peers before answering. */
  status(): NodeStatus | Promise<NodeStatus>;
  members(): MemberStatus[];
  /** The active policy's YAML and envelope metadata, or null when none is active. */
  policy(): { name: string; version: number; signer: string; yaml: string } | null;
  /** Accepts a signed policy envelope (JSON as produced by `pace policy sign`). */
  applyPolicy(envelope: unknown): Promise<ApplyPolicyResult>;
  /** Leaves the cluster gracefully (announces leave, then the daemon stops). */
  leave(): Promise<void>;
}
