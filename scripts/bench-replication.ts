/**
 * Replication benchmark (issue 3). Not a test: it prints figures and writes them into
 * docs/BENCHMARKS.md between `<!-- bench:replication:start -->` and `<!-- bench:replication:end -->`.
 *
 *  (a) propagation: time for one change to reach every node, N = 10, 50, 100 replicated nodes
 *      in one process over the libp2p memory transport (gossipsub + sync, real Noise/Yamux);
 *  (b) catch-up: a fresh node joins a node holding a 1,000-member document; time from start
 *      until it holds the same heads;
 *  (c) document size (`Automerge.save` bytes) and load time after 1,000 joins + 10,000 updates.
 *
 * Usage: `npm run bench:replication [-- --sizes=10,50,100 --changes=7 --no-write]`.
 * Real time and real timers are used on purpose (this measures them); nothing asserts on them.
 */
import '../src/shim/index.js';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Libp2pNode } from '../test/support/libp2p-node.js';
import { SeededRandom } from '../src/seams/seeded-random.js';
import { SystemRandom } from '../src/seams/system-random.js';
import { ClusterDoc } from '../src/state/cluster-doc.js';
import { DEFAULT_MEMBERSHIP_PROFILE, MEMBERSHIP_PROFILES } from '../src/membership/profiles.js';
import { ManualClock } from '../src/seams/manual-clock.js';
import { BENCH_CLUSTER, benchSpecs, relabel, startBenchNode, waitFor, whenHolds } from './bench/bench-node.js';
import { writeSection } from './bench/markdown-section.js';
import { bytes, ms, summarize } from './bench/stats.js';
import type { Summary } from './bench/stats.js';
import { applyInBatches, buildHistory } from './bench/synthetic-history.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string | undefined]));
const SIZES = (args.get('sizes') ?? '10,50,100').split(',').map(Number);
const CHANGES = Number(args.get('changes') ?? 7);
const WRITE = !args.has('no-write');
/** Each node bootstraps from this many random earlier nodes (peer exchange is off). */
const FANOUT = 4;
const FORM_TIMEOUT_MS = 300_000;
const CHANGE_TIMEOUT_MS = 60_000;
const random = new SeededRandom('bench-replication');
const log = (line: string): void => console.log(line);

interface Propagation {
  n: number;
  formMs: number;
  connections: number;
  samples: number[];
  timeouts: number;
  summary: Summary;
}

async function propagation(n: number): Promise<Propagation> {
  const specs = await benchSpecs(n, random.fork(`keys-${n}`));
  const topology = random.fork(`topology-${n}`);
  const nodes: Libp2pNode[] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < n; i++) {
      const earlier = specs.slice(0, i);
      const picks = new Set<number>();
      while (picks.size < Math.min(FANOUT, earlier.length)) picks.add(topology.int(earlier.length));
      nodes.push(await startBenchNode(specs[i]!, [...picks].map((p) => earlier[p]!.dialable), new SystemRandom()));
    }
    const formed = await waitFor(() => nodes.every((x) => x.doc.members().length === n) && new Set(nodes.map((x) => x.doc.heads().join())).size === 1, FORM_TIMEOUT_MS);
    const formMs = performance.now() - t0;
    if (!formed) throw new Error(`N=${n}: the fleet did not converge within ${FORM_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 3_000)); // let gossipsub meshes settle (heartbeat 1 s)
    const connections = nodes.reduce((sum, x) => sum + x.mesh.peers().length, 0) / 2;
    const samples: number[] = [];
    let timeouts = 0;
    for (let k = 0; k < CHANGES; k++) {
      const writer = nodes[random.int(n)]!;
      const start = performance.now();
      relabel(writer, 'bench', `change-${k}`);
      const heads = writer.doc.heads();
      const arrivals = await Promise.all(nodes.filter((x) => x !== writer).map((x) => whenHolds(x, heads, start, CHANGE_TIMEOUT_MS)));
      if (arrivals.some((a) => a === undefined)) timeouts++;
      else samples.push(Math.max(...(arrivals as number[])));
      await new Promise((r) => setTimeout(r, 500));
    }
    return { n, formMs, connections, samples, timeouts, summary: summarize(samples) };
  } finally {
    await Promise.all(nodes.map((x) => x.stop()));
  }
}

interface CatchUp {
  members: number;
  docBytes: number;
  samples: number[];
  afterConnect: number[];
}

async function catchUp(members: number, trials: number): Promise<CatchUp> {
  const [holderSpec, ...fresh] = await benchSpecs(trials + 1, random.fork('catch-up-keys'));
  const holder = await startBenchNode(holderSpec!, [], new SystemRandom());
  try {
    const history = buildHistory(BENCH_CLUSTER, members, 0, random.fork('catch-up-history'));
    applyInBatches(holder.doc, history.joins);
    relabel(holder, 'bench', 'collapse-heads'); // one write on top: a single head, like a live cluster
    const heads = holder.doc.heads();
    const held = { members: holder.doc.members().length, docBytes: holder.doc.save().length };
    const samples: number[] = [];
    const afterConnect: number[] = [];
    for (const spec of fresh) {
      let connectedAt = Number.NaN;
      const start = performance.now();
      const node = await startBenchNode(spec, [holderSpec!.dialable], new SystemRandom(), (mesh) => {
        mesh.on('peer:up', () => {
          if (Number.isNaN(connectedAt)) connectedAt = performance.now();
        });
        return mesh;
      });
      try {
        const took = await whenHolds(node, heads, start, CHANGE_TIMEOUT_MS);
        if (took === undefined) throw new Error('a fresh node did not catch up within 60 s');
        samples.push(took);
        afterConnect.push(start + took - connectedAt);
      } finally {
        await node.stop();
      }
    }
    return { ...held, samples, afterConnect };
  } finally {
    await holder.stop();
  }
}

interface DocSize {
  members: number;
  changes: number;
  saveBytes: number;
  buildMs: number;
  loadSamples: number[];
  readMembersMs: number;
}

function docSize(members: number, updates: number, loads: number): DocSize {
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const t0 = performance.now();
  const history = buildHistory(BENCH_CLUSTER, members, updates, random.fork('size-history'));
  const init = { cluster: BENCH_CLUSTER, self: 'bench-reader', clock: new ManualClock(1_700_000_000_000), random: random.fork('size-reader'), logger: silent };
  const doc = ClusterDoc.create(init);
  applyInBatches(doc, history.joins);
  applyInBatches(doc, history.updates);
  const buildMs = performance.now() - t0;
  const saved = doc.save();
  const loadSamples: number[] = [];
  let loaded = doc;
  for (let i = 0; i < loads; i++) {
    const s = performance.now();
    loaded = ClusterDoc.load(saved, init);
    loadSamples.push(performance.now() - s);
  }
  const r = performance.now();
  const count = loaded.members().length;
  const readMembersMs = performance.now() - r;
  return { members: count, changes: 1 + history.joins.length + history.updates.length, saveBytes: saved.length, buildMs, loadSamples, readMembersMs };
}

function report(props: Propagation[], skipped: string[], cu: CatchUp, size: DocSize): string {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${process.platform}/${process.arch}`;
  const lines = [
    '## Replication (issue 3)',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench:replication\` (scripts/bench-replication.ts) on ${machine}.`,
    'A shared, noisy 2-core VM: treat the figures as orders of magnitude, and compare medians.',
    '',
    '### (a) One change reaching every node (libp2p memory transport, one process)',
    '',
    `Each node runs the daemon's assembly (\`createNode\` on \`createNodeMesh\`: libp2p with Noise, Yamux, gossipsub; SWIM failure detection; the`,
    `Automerge sync protocol) and bootstraps from ${FANOUT} random earlier nodes (libp2p peer exchange is off),`,
    'then, as the daemon does, dials every member its document lists, so the mesh becomes complete (N(N−1)/2 connections).',
    `Gossip heartbeat 1 s, periodic sync every ~${MEMBERSHIP_PROFILES[DEFAULT_MEMBERSHIP_PROFILE].syncIntervalMs / 1000} s (the daemon's default).`,
    `A sample is the time from one node's write until the last of the other N−1 nodes holds it; ${CHANGES} writes per N, by random nodes.`,
    '',
    '| N | connections | fleet formed in | samples | median | p90 | max |',
    '|---|---|---|---|---|---|---|',
    ...props.map((p) => `| ${p.n} | ${p.connections} | ${ms(p.formMs)} | ${p.samples.length}${p.timeouts > 0 ? ` (+${p.timeouts} timed out)` : ''} | **${ms(p.summary.median)}** | ${ms(p.summary.p90)} | ${ms(p.summary.max)} |`),
    ...skipped.map((s) => `| ${s} | | | not measured | | | |`),
    '',
    '"Fleet formed in" is from the first node\'s start until all N hold N member records and identical heads',
    '(N whole nodes started one after another in one process on two cores; each start writes a member record).',
    '',
    '### (b) Catch-up of a fresh node against a 1,000-member document',
    '',
    `One node holds ${cu.members - 1} member records plus its own (document ${bytes(cu.docBytes)}); a fresh node with an empty`,
    `data directory bootstraps from it. ${cu.samples.length} trials.`,
    '',
    '| measured from | median | p90 |',
    '|---|---|---|',
    `| node start (libp2p start, dial, handshake, sync) | **${ms(summarize(cu.samples).median)}** | ${ms(summarize(cu.samples).p90)} |`,
    `| connection up (sync only) | **${ms(summarize(cu.afterConnect).median)}** | ${ms(summarize(cu.afterConnect).p90)} |`,
    '',
    '### (c) Document size and load time after 1,000 joins + 10,000 updates',
    '',
    `${size.members} members each joined with their own actor, then made updates in turn (a label and the incarnation),`,
    `${size.changes.toLocaleString('en')} changes in all including genesis (history is never dropped). Each member wrote on its own copy, so its`,
    "changes form one chain from genesis and the merged document has 1,000 concurrent branches (a live cluster's",
    'history is more linear; the count and size of changes are the same): see scripts/bench/synthetic-history.ts.',
    '',
    '| figure | value |',
    '|---|---|',
    `| \`Automerge.save\` size | **${bytes(size.saveBytes)}** (${(size.saveBytes / size.changes).toFixed(1)} B per change) |`,
    `| \`ClusterDoc.load\` (median of ${size.loadSamples.length}) | **${ms(summarize(size.loadSamples).median)}** (p90 ${ms(summarize(size.loadSamples).p90)}) |`,
    `| reading all members after load | ${ms(size.readMembersMs)} |`,
    `| building the history (11,000 writes + merge) | ${ms(size.buildMs)} |`,
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  log(`bench:replication — sizes ${SIZES.join(', ')}, ${CHANGES} changes each`);
  const props: Propagation[] = [];
  const skipped: string[] = [];
  for (const n of SIZES) {
    try {
      const p = await propagation(n);
      props.push(p);
      log(`(a) N=${n}: formed in ${ms(p.formMs)}, ${p.connections} connections; change reaches all: median ${ms(p.summary.median)}, p90 ${ms(p.summary.p90)}, max ${ms(p.summary.max)} (${p.samples.length} samples, ${p.timeouts} timeouts)`);
    } catch (err) {
      skipped.push(`${n} (${err instanceof Error ? err.message : String(err)})`);
      log(`(a) N=${n}: not measured: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const cu = await catchUp(1_000, 5);
  log(`(b) catch-up against ${cu.members} members (${bytes(cu.docBytes)}): from start median ${ms(summarize(cu.samples).median)}, from connection median ${ms(summarize(cu.afterConnect).median)}`);
  const size = docSize(1_000, 10_000, 5);
  log(`(c) ${size.changes} changes: save ${bytes(size.saveBytes)}, load median ${ms(summarize(size.loadSamples).median)}, read members ${ms(size.readMembersMs)}`);
  if (WRITE) {
    const file = fileURLToPath(new URL('../../docs/BENCHMARKS.md', import.meta.url));
    writeSection(file, 'replication', report(props, skipped, cu, size));
    log(`wrote ${file}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
