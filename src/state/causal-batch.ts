/**
 * Which received changes a document can apply now, and what its heads become: the causal
 * ordering Automerge would otherwise do itself by queueing a change until its dependencies
 * arrive.
 *
 * Why here and not in Automerge: a document handle with queued changes is no longer described
 * by its heads, so a simulated fleet's node holding one cannot share its handle with the nodes
 * holding the same heads (the simulator's DocHandles) and needs a private copy of the whole document —
 * ~7 MB at 1,000 members. On lossy links most nodes miss some change of a burst now and then,
 * and a thousand private copies exhaust Automerge's 4 GiB wasm memory. Kept beside the handle
 * instead (DocReplica's waiting room), the changes cost their own bytes only, and the handle
 * holds exactly what its heads name. Applying only changes whose dependencies are all present
 * gives the document the same content Automerge's queue would.
 */

/** One change of a batch: its hash and the hashes it depends on. */
export interface BatchChange {
  readonly hash: string;
  readonly deps: readonly string[];
}

export interface BatchPlan {
  /** Changes to apply now: each depends only on changes held or also ready. */
  readonly ready: ReadonlySet<string>;
  /** Changes not held that depend on a change neither held nor ready: they wait. */
  readonly waiting: ReadonlySet<string>;
  /** The sorted heads after applying `ready`; undefined when `ready` is empty. */
  readonly heads: readonly string[] | undefined;
}

/**
 * Plans applying `batch` to a document with `heads`. `absentOf(hashes)` returns those of
 * `hashes` the document does not hold (one lookup for the whole batch); a change the document
 * holds already is neither ready nor waiting.
 */
export function planBatch(heads: readonly string[], batch: readonly BatchChange[], absentOf: (hashes: string[]) => ReadonlySet<string>): BatchPlan {
  const headSet = new Set(heads);
  const asked = new Set<string>();
  // Changes written on the same heads often share one dependency list (one array), hundreds of
  // hashes long while a large fleet records its roles: each distinct list is visited once.
  const lists = new Set<readonly string[]>();
  for (const change of batch) {
    if (!headSet.has(change.hash)) asked.add(change.hash);
    lists.add(change.deps);
  }
  for (const list of lists) for (const dep of list) if (!headSet.has(dep)) asked.add(dep);
  const absent = asked.size === 0 ? new Set<string>() : absentOf([...asked]);

  // Kahn's order over the changes not held: a change is ready once every dependency it lacks is
  // ready; one that lacks a change outside the batch waits, and so does all that builds on it.
  const unplaced = new Map<string, readonly string[]>();
  for (const change of batch) if (absent.has(change.hash)) unplaced.set(change.hash, change.deps);
  const lacking = new Map<readonly string[], string[]>();
  const blockers = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  const free: string[] = [];
  for (const [hash, deps] of unplaced) {
    let lacks = lacking.get(deps);
    if (lacks === undefined) lacking.set(deps, (lacks = deps.filter((dep) => absent.has(dep))));
    let count = 0;
    for (const dep of lacks) {
      if (!unplaced.has(dep)) {
        count = Number.POSITIVE_INFINITY;
        break;
      }
      count++;
      const list = dependents.get(dep);
      if (list === undefined) dependents.set(dep, [hash]);
      else list.push(hash);
    }
    if (count === 0) free.push(hash);
    else blockers.set(hash, count);
  }
  const ready = new Set<string>();
  for (let hash = free.pop(); hash !== undefined; hash = free.pop()) {
    ready.add(hash);
    for (const next of dependents.get(hash) ?? []) {
      const left = (blockers.get(next) ?? 0) - 1;
      blockers.set(next, left);
      if (left === 0) free.push(next);
    }
  }
  const waiting = new Set([...unplaced.keys()].filter((hash) => !ready.has(hash)));
  if (ready.size === 0) return { ready, waiting, heads: undefined };
  // Heads after: the old heads and the ready changes, less everything a ready change depends on.
  const after = new Set([...heads, ...ready]);
  const walked = new Set<readonly string[]>();
  for (const hash of ready) {
    const deps = unplaced.get(hash) as readonly string[];
    if (walked.has(deps)) continue;
    walked.add(deps);
    for (const dep of deps) after.delete(dep);
  }
  return { ready, waiting, heads: [...after].sort() };
}
