import '../src/shim/index.js';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { defaultLanMembershipConfig } from '../src/membership/config.js';
import { SimFleet } from '../simulations/fleet/sim-fleet.js';
import { fleetIds } from '../simulations/fleet/run-scenario.js';

const n = Number(process.env.N ?? 200);
const until = Number(process.env.T ?? 12_000);
const ids = fleetIds('n', n);
const MEM = [1024, 2048, 4096, 8192];
const fleet = new SimFleet({
  seed: 1,
  nodes: ids.map((id, i) => ({ id, facts: { cpus: 4, memoryMB: MEM[i % MEM.length]!, diskGB: 32, arch: 'amd64' }, labels: {} })),
  membership: defaultLanMembershipConfig(),
  network: { link: { latencyMs: 1, jitterMs: 1, loss: 0.01 } },
  traceRetain: 0,
});
const t0 = performance.now();
const stagger = 10_000 / n;
for (let i = 0; i < n; i++) {
  await fleet.runUntil(Math.round(i * stagger));
  await fleet.start(ids[i]!);
}
let last = performance.now();
for (let t = 1000; t <= until; t += 1000) {
  await fleet.runUntil(t);
  if (t === 11_000) fleet.applyPolicy(ids[0]!, readFileSync('policies/site-ha.yaml', 'utf8'));
  const sum: Record<string, number> = {};
  for (const x of fleet.liveNodes()) {
    const s = x.node!.state.replicator.stats() as unknown as Record<string, number>;
    for (const k of ['gossipReceived', 'gossipApplied', 'syncSessions', 'syncTurns', 'syncRequestsServed', 'missingDepsSyncs', 'published']) sum[k] = (sum[k] ?? 0) + s[k]!;
  }
  const now = performance.now();
  console.log(`t=${t / 1000}s wall=${((now - last) / 1000).toFixed(1)}s heap=${(process.memoryUsage().heapUsed / 1e6).toFixed(0)}MB rss=${(process.memoryUsage().rss / 1e6).toFixed(0)}MB`, JSON.stringify(sum));
  last = now;
}
console.log('total wall', ((performance.now() - t0) / 1000).toFixed(1));
{
  const x = fleet.liveNodes()[5]!.node!;
  const states = (x.state.replicator as unknown as { syncStates: Map<string, unknown> }).syncStates;
  let bytes = 0;
  for (const s of states.values()) bytes += JSON.stringify(s).length;
  console.log('sync states held by one node:', states.size, 'JSON bytes', bytes);
  const one = [...states.values()][0] as Record<string, unknown>;
  console.log(Object.fromEntries(Object.entries(one).map(([k, v]) => [k, JSON.stringify(v)?.length])));
}
