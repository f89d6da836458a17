/**
 * What the control-plane software itself says, fleet-wide: each cluster it was bootstrapped as
 * (an etcd cluster, once per `--initial-cluster-state new`) and that cluster's voting members.
 * The simulated fleet's fake drivers change it as the etcd driver's changes change a real
 * cluster's member list; checkers compare it with the control plane PACE recorded. It is the
 * cluster's word, not any node's, so a node can be removed while it is down and learn of it only
 * when its software, restarted on its old member data, finds it is no member any more.
 *
 * A node's member data (FakeDriverDisk) names the cluster it belongs to; two islands that formed
 * apart bootstrapped two clusters, and a node joins another only through a promote, which moves
 * its old data aside.
 */

/** A cluster the control-plane software was bootstrapped as, numbered from 1 in bootstrap order. */
export type ClusterIncarnation = number;

export class FakeControlPlane {
  readonly #members = new Map<ClusterIncarnation, Set<string>>();

  /** A new cluster with `node` its only member; returns its number. */
  bootstrap(node: string): ClusterIncarnation {
    const cluster = this.#members.size + 1;
    this.#members.set(cluster, new Set([node]));
    return cluster;
  }

  /** `node` becomes a voting member of `cluster` (idempotent). */
  join(cluster: ClusterIncarnation, node: string): void {
    this.#set(cluster).add(node);
  }

  /** `node` is no member of `cluster` any more (idempotent). */
  leave(cluster: ClusterIncarnation, node: string): void {
    this.#set(cluster).delete(node);
  }

  isMember(cluster: ClusterIncarnation | undefined, node: string): boolean {
    return cluster !== undefined && this.#members.get(cluster)?.has(node) === true;
  }

  /** `cluster`'s voting members, sorted (what `member list` reports). */
  members(cluster: ClusterIncarnation): string[] {
    return [...this.#set(cluster)].sort();
  }

  #set(cluster: ClusterIncarnation): Set<string> {
    const members = this.#members.get(cluster);
    if (members === undefined) throw new Error(`no control-plane cluster ${cluster} was bootstrapped`);
    return members;
  }
}
