/**
 * Which directed links are cut: a symmetric partition into groups, plus one-way blocks.
 * Liveness (crash, stop) is not here; the network combines both.
 */
import type { PeerId } from '../../src/mesh/mesh.js';

/**
 * The partition state of a fleet. `isOpen(from, to)` is true unless `from` and `to` sit in
 * different groups of the symmetric partition, or a one-way block covers `from → to`.
 *
 * Symmetric partition: `partition([[a, b], [c]])` splits the named nodes into groups; every
 * node not named forms one more group together (so `partition([[c]])` isolates c from all).
 * A new `partition` replaces the previous one. One-way blocks accumulate. `heal` clears both.
 */
export class PartitionTable {
  /** Node → group index; unnamed nodes are group -1. Empty when there is no partition. */
  readonly #group = new Map<PeerId, number>();
  readonly #blocks: { from: ReadonlySet<PeerId>; to: ReadonlySet<PeerId> }[] = [];

  partition(groups: readonly (readonly PeerId[])[]): void {
    const next = new Map<PeerId, number>();
    groups.forEach((group, index) => {
      for (const node of group) {
        if (next.has(node)) throw new RangeError(`node ${node} is in two partition groups`);
        next.set(node, index);
      }
    });
    this.#group.clear();
    for (const [node, index] of next) this.#group.set(node, index);
  }

  /** Cuts every link from a node in `from` to a node in `to` (the reverse stays open). */
  blockOneWay(from: readonly PeerId[], to: readonly PeerId[]): void {
    this.#blocks.push({ from: new Set(from), to: new Set(to) });
  }

  /** Removes the partition and every one-way block. */
  heal(): void {
    this.#group.clear();
    this.#blocks.length = 0;
  }

  /** True when nothing is cut. */
  isWhole(): boolean {
    return this.#group.size === 0 && this.#blocks.length === 0;
  }

  isOpen(from: PeerId, to: PeerId): boolean {
    if (this.#group.size > 0 && (this.#group.get(from) ?? -1) !== (this.#group.get(to) ?? -1)) return false;
    for (const block of this.#blocks) {
      if (block.from.has(from) && block.to.has(to)) return false;
    }
    return true;
  }

  /** A description for traces: the groups (sorted) and the one-way blocks. */
  describe(): { groups: string[][]; oneWay: { from: string[]; to: string[] }[] } {
    const byIndex = new Map<number, string[]>();
    for (const [node, index] of this.#group) {
      const list = byIndex.get(index) ?? [];
      list.push(node);
      byIndex.set(index, list);
    }
    const groups = [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, nodes]) => nodes.sort());
    const oneWay = this.#blocks.map((b) => ({ from: [...b.from].sort(), to: [...b.to].sort() }));
    return { groups, oneWay };
  }
}
