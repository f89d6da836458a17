/**
 * V8 flags for a process that runs a simulated fleet (`pace sim`, `npm run bench:sim`).
 *
 * Why: a simulated fleet makes short-lived objects at a high rate — every message, promise and
 * timer of a thousand nodes — while holding a large heap of live state. With V8's default young
 * generation (16 MiB semi-spaces) a scavenge runs every few milliseconds and copies much of what
 * is still in flight into the old generation, which then needs full collections: a quarter of a
 * 1,000-node fleet's steady state was garbage collection. Semi-spaces of 64 MiB let most of it
 * die young (docs/BENCHMARKS.md, "Simulator"). V8 reads the size only at startup, so `pace`
 * re-executes itself with these flags for `sim` commands (bin/pace.js).
 */
export const SIM_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

/** Whether this process was started with every flag of {@link SIM_NODE_FLAGS}. */
export function hasSimNodeFlags(execArgv: readonly string[] = process.execArgv): boolean {
  return SIM_NODE_FLAGS.every((flag) => execArgv.includes(flag));
}
