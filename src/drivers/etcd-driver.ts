/**
 * The `etcd` driver: performs the control plane with a real etcd 3.4 (Debian `etcd-server`),
 * one etcd member per manager node, named by the PACE node id. docs/DRIVERS.md has the
 * settings, what each change does and the etcd gotchas handled here (REAL-ENV.md, "etcd").
 *
 *  - bootstrap: start etcd alone (`--initial-cluster-state new`, a token unique to this
 *    cluster incarnation), wait until healthy.
 *  - promote (this node joins): `member add <self> --learner` via the current members (retried:
 *    "unhealthy cluster" for ~5 s after restarts), start etcd with `existing` and exactly the
 *    ETCD_INITIAL_CLUSTER printed, then retry `member promote` until the learner caught up.
 *  - demote (this node leaves): `member remove` own ID via another member, stop etcd, move the
 *    data dir aside (a removed member restarted on its old data exits).
 *  - remove (a dead member): `member remove` its ID.
 *  - ensure(manager role): etcd runs if this node has member data; other roles: etcd stopped.
 *    A node recorded in the control plane without member data (a disk wiped while it was away)
 *    is told by holdsSeat(): it rejoins through promote, which replaces its stale membership
 *    (given a quorum of members still serving: etcd refuses member remove without one).
 *
 * Every step is idempotent: a change re-run after a PACE crash finds what was done already
 * (itself in the member list, etcd running via the pid file) and finishes the rest. All
 * commands go through the ProcessRunner; the etcd server runs under the ServiceSupervisor.
 * Each change returns the voting members the cluster reports, mapped back to node ids by name.
 */
import { access, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isManagerRole, type Role } from '../policy/types.js';
import type { ControlPlaneChange } from '../roles/control-plane-plan.js';
import type { RoleDriver } from '../roles/driver.js';
import type { Clock } from '../seams/clock.js';
import type { ProcessRunner } from '../seams/process-runner.js';
import type { ServiceSpec, ServiceSupervisor } from '../seams/service-supervisor.js';
import type { StateLogger } from '../state/logger.js';
import { Etcdctl, initialClusterFor, type EtcdMember } from './etcdctl.js';
import type { EtcdSettings } from '../policy/driver-settings/etcd.js';

export interface EtcdDriverDeps {
  runner: ProcessRunner;
  supervisor: ServiceSupervisor;
  clock: Clock;
  logger: StateLogger;
  /** This node's id: its etcd member name. */
  self(): string;
  /** The PACE cluster name (default `--initial-cluster-token` prefix). */
  cluster(): string;
  /** The address other nodes reach this node on (its etcd peer and client URLs use it). */
  advertiseHost(): string | undefined;
  /** Client URL of another node's etcd (from its member record), if known. */
  clientUrlOf(node: string): string | undefined;
}

export interface EtcdDriverTiming {
  /** Longest wait for the local etcd to become healthy after a start. @default 30000 */
  healthyMs: number;
  /** Longest retry of `member add`/`member remove` (refused for ~5 s after restarts). @default 30000 */
  membershipRetryMs: number;
  /** Longest retry of `member promote` while the learner catches up. @default 60000 */
  promoteMs: number;
  /** First back-off between retries; doubles up to 2 s. @default 200 */
  backoffMs: number;
}

export const DEFAULT_ETCD_TIMING: EtcdDriverTiming = { healthyMs: 30_000, membershipRetryMs: 30_000, promoteMs: 60_000, backoffMs: 200 };
const MAX_BACKOFF_MS = 2_000;
/** What etcd 3.4 logs when it finds, on start, that its member was removed. */
const REMOVED = /member .* has already been removed|the member has been permanently removed|removed from the cluster/i;

type Context = { signal?: AbortSignal };

export class EtcdDriver implements RoleDriver {
  private readonly timing: EtcdDriverTiming;

  constructor(private readonly settings: () => EtcdSettings, private readonly deps: EtcdDriverDeps, timing: Partial<EtcdDriverTiming> = {}) {
    this.timing = { ...DEFAULT_ETCD_TIMING, ...timing };
  }

  // ---- RoleDriver -------------------------------------------------------------------------

  async ensure(role: Role, context: Context): Promise<void> {
    if (!isManagerRole(role)) {
      await this.stopLocal();
      return;
    }
    // Not a member yet (bootstrap/promote will start it), or data already moved aside.
    if (!(await this.hasData())) return;
    await this.startOnData(context, { throwIfNot: false });
  }

  /** A member data dir is this node's etcd membership: without one it cannot serve a seat (it rejoins through promote). */
  holdsSeat(): Promise<boolean> {
    return this.hasData();
  }

  async changeControlPlane(change: ControlPlaneChange, members: readonly string[], context: Context): Promise<string[]> {
    const self = this.deps.self();
    this.deps.logger.info({ change: change.kind, node: change.node, members }, `etcd: ${change.kind} ${change.node}`);
    switch (change.kind) {
      case 'bootstrap':
        return this.bootstrap(context);
      case 'promote':
        if (change.node !== self) throw new Error(`etcd: promote of ${change.node} must run on that node, not ${self}`);
        return this.promote(members, context);
      case 'demote':
        if (change.node !== self) throw new Error(`etcd: demote of ${change.node} must run on that node, not ${self}`);
        return this.demote(members, context);
      case 'remove':
        return this.remove(change.node, members, context);
    }
  }

  // ---- changes ----------------------------------------------------------------------------

  private async bootstrap(context: Context): Promise<string[]> {
    const self = this.deps.self();
    const peer = this.peerUrl();
    if (await this.hasData()) {
      this.deps.logger.info({}, 'etcd: member data present, restarting it instead of initialising anew');
      await this.startOnData(context, { throwIfNot: true });
    } else {
      const prefix = this.settings().clusterToken ?? tokenSafe(this.deps.cluster());
      const token = `${prefix}-${this.deps.clock.now().toString(36)}`;
      await this.startLocal(['--initial-cluster', `${self}=${peer}`, '--initial-cluster-state', 'new', '--initial-cluster-token', token], context);
    }
    await this.waitHealthy(context, { throwIfNot: true });
    return this.votingNames(await this.etcdctl().memberList([this.clientUrl()], context));
  }

  private async promote(members: readonly string[], context: Context): Promise<string[]> {
    const self = this.deps.self();
    const peer = this.peerUrl();
    const endpoints = this.endpointsOf(members.filter((m) => m !== self));
    if (endpoints.length === 0) throw new Error(`etcd: promote: no client URL known for any member of ${members.join(', ') || '(none)'}`);
    const ctl = this.etcdctl();
    const list = await this.retry('member list', () => ctl.memberList(endpoints, context), this.timing.membershipRetryMs, context);
    let me = list.find((m) => m.name === self || m.peerUrls.includes(peer));
    if (me !== undefined && me.name === self && !(await this.hasData())) {
      // A member by our name with no local data: it lost its disk. Remove it and join anew.
      this.deps.logger.warn({ id: me.id }, 'etcd: this node is a member but has no data; removing and re-adding it');
      const id = me.id;
      await this.retry('member remove', () => ctl.memberRemove(endpoints, id, context), this.timing.membershipRetryMs, context);
      me = undefined;
    }
    let initialCluster: string | undefined;
    if (me === undefined) {
      await this.stopLocal();
      await this.moveDataAside('stale data from an earlier membership');
      // etcd 3.4 takes one learner at a time: one a failed promote left behind (its etcd never
      // started, and its node could not take it out) would refuse every later node's add.
      // PACE makes one control-plane change at a time, so a learner that is not ours is stale.
      for (const stale of list.filter((m) => m.isLearner)) await this.removeLearner(endpoints, stale.id, `a learner left behind by an earlier promote (${stale.name || 'never started'})`, context);
      const added = await this.retry('member add', () => ctl.memberAddLearner(endpoints, self, peer, context), this.timing.membershipRetryMs, context);
      this.deps.logger.info({ id: added.id, initialCluster: added.initialCluster }, 'etcd: added as learner');
      me = { id: added.id, name: '', peerUrls: [peer], clientUrls: [], isLearner: true };
      initialCluster = added.initialCluster;
    } else if (!(await this.hasData())) {
      // Added before a crash but never started: rebuild what `member add` printed.
      initialCluster = initialClusterFor(list, { id: me.id, name: self });
    }
    // Set while this node is a learner, cleared once promoted (a voter is never taken out here).
    let learner = me.isLearner ? me.id : undefined;
    try {
      await this.startLocal(initialCluster === undefined ? [] : ['--initial-cluster', initialCluster, '--initial-cluster-state', 'existing'], context);
      if (learner !== undefined) {
        const id = learner;
        const promoteOnce = async (): Promise<void> => {
          try {
            await ctl.memberPromote(endpoints, id, context);
          } catch (err) {
            if (/not a learner/i.test(String(err))) return; // promoted already (a re-run)
            // A learner whose etcd exited will never catch up: fail now, not after promoteMs.
            if (!(await this.localRunning(context))) throw new LocalEtcdExited(this.service().logFile);
            throw err;
          }
        };
        await this.retry('member promote', promoteOnce, this.timing.promoteMs, context, (err) => !(err instanceof LocalEtcdExited));
        learner = undefined;
      }
      await this.waitHealthy(context, { throwIfNot: true });
    } catch (err) {
      // Not promoted, and its etcd does not run (cannot start on this machine): take the learner
      // out again, or it blocks every other node's promote (above). A learner still running is
      // kept: it may only be slow to catch up, and the next attempt goes on from where it is.
      if (learner !== undefined && context.signal?.aborted !== true && !(await this.localRunning(context))) {
        await this.removeLearner(endpoints, learner, 'its etcd does not run: this node\'s promote did not finish', context);
        await this.moveDataAside('a promote that did not finish');
      }
      throw err;
    }
    return this.votingNames(await ctl.memberList([...endpoints, this.clientUrl()], context));
  }

  /** Whether the local etcd runs; asked again a back-off later before answering no. */
  private async localRunning(context: Context): Promise<boolean> {
    if ((await this.deps.supervisor.running(this.service())) !== undefined) return true;
    await this.deps.clock.sleep(this.timing.backoffMs, context);
    return (await this.deps.supervisor.running(this.service())) !== undefined;
  }

  /** Best effort: `member remove` of a learner; a failure is logged (a later promote tries again). */
  private async removeLearner(endpoints: readonly string[], id: string, why: string, context: Context): Promise<void> {
    try {
      await this.etcdctl().memberRemove(endpoints, id, context);
      this.deps.logger.warn({ id, why }, 'etcd: removed a learner');
    } catch (err) {
      this.deps.logger.warn({ id, why, err: String(err) }, 'etcd: could not remove a learner');
    }
  }

  private async demote(members: readonly string[], context: Context): Promise<string[]> {
    const self = this.deps.self();
    const ctl = this.etcdctl();
    const known = [this.clientUrl(), ...this.endpointsOf(members.filter((m) => m !== self))];
    let list: EtcdMember[] | undefined;
    try {
      list = await this.retry('member list', () => ctl.memberList(known, context), this.timing.membershipRetryMs, context);
    } catch (err) {
      if (!(await this.hasData())) {
        // Already left: nothing to remove, nothing running.
        await this.stopLocal();
        return members.filter((m) => m !== self);
      }
      throw err;
    }
    const me = list.find((m) => m.name === self || m.peerUrls.includes(this.peerUrl()));
    const others = list.filter((m) => m !== me);
    const otherEndpoints = others.flatMap((m) => m.clientUrls);
    if (me !== undefined && others.length > 0) {
      const id = me.id;
      const via = otherEndpoints.length > 0 ? otherEndpoints : known.slice(1);
      await this.retry('member remove', () => ctl.memberRemove(via, id, context), this.timing.membershipRetryMs, context, (err) => !/member not found/i.test(String(err)));
      this.deps.logger.info({ id }, 'etcd: removed this node from the cluster');
    }
    await this.stopLocal();
    await this.moveDataAside('left the control plane');
    if (others.length === 0) return [];
    return this.votingNames(await this.retry('member list', () => ctl.memberList(otherEndpoints.length > 0 ? otherEndpoints : known.slice(1), context), this.timing.membershipRetryMs, context));
  }

  private async remove(node: string, members: readonly string[], context: Context): Promise<string[]> {
    const self = this.deps.self();
    const ctl = this.etcdctl();
    const endpoints = [...((await this.hasData()) ? [this.clientUrl()] : []), ...this.endpointsOf(members.filter((m) => m !== node && m !== self))];
    const list = await this.retry('member list', () => ctl.memberList(endpoints, context), this.timing.membershipRetryMs, context);
    const target = list.find((m) => m.name === node);
    if (target === undefined) {
      this.deps.logger.info({ node }, 'etcd: member already gone');
      return this.votingNames(list);
    }
    await this.retry('member remove', () => ctl.memberRemove(endpoints, target.id, context), this.timing.membershipRetryMs, context, (err) => !/member not found/i.test(String(err)));
    this.deps.logger.info({ node, id: target.id }, 'etcd: removed member');
    return this.votingNames(await ctl.memberList(endpoints, context));
  }

  // ---- local etcd -------------------------------------------------------------------------

  private async startLocal(initialFlags: readonly string[], context: Context): Promise<void> {
    context.signal?.throwIfAborted();
    const s = this.settings();
    const self = this.deps.self();
    const host = this.host();
    const clientListen = [...new Set([`http://${host}:${s.clientPort}`, `http://127.0.0.1:${s.clientPort}`])].join(',');
    const args = [
      '--name', self,
      '--data-dir', this.memberDir(),
      '--listen-client-urls', clientListen,
      '--advertise-client-urls', this.clientUrl(),
      '--listen-peer-urls', this.peerUrl(),
      '--initial-advertise-peer-urls', this.peerUrl(),
      ...initialFlags,
    ];
    const { pid, alreadyRunning } = await this.deps.supervisor.start({ ...this.service(), command: s.etcdBinary, args });
    if (!alreadyRunning) this.deps.logger.info({ pid, args }, 'etcd: started');
  }

  private async stopLocal(): Promise<void> {
    if ((await this.deps.supervisor.running(this.service())) === undefined) return;
    await this.deps.supervisor.stop(this.service());
    this.deps.logger.info({}, 'etcd: stopped');
  }

  /**
   * Starts etcd on this node's member data and waits until it is healthy (`throwIfNot`: or
   * fails). A member its cluster removed while it was down exits on that data (gotcha 5): the
   * data is moved aside, so the next attempt joins (promote) or starts (bootstrap) afresh, and
   * this fails with a clear error instead of starting the same data again on every retry.
   */
  private async startOnData(context: Context, options: { throwIfNot: boolean }): Promise<void> {
    // Two attempts: a process killed a moment ago can still look alive to the first start.
    for (let attempt = 1; ; attempt++) {
      const logFrom = await sizeOf(this.service().logFile);
      await this.startLocal([], context);
      try {
        await this.waitHealthy(context, options);
        return;
      } catch (err) {
        if (!(err instanceof LocalEtcdExited)) throw err;
        if (REMOVED.test(await this.logSince(logFrom))) {
          await this.moveDataAside('removed from the cluster while down');
          throw new Error('etcd: this member was removed from the cluster; its data was moved aside (the next change starts it afresh)');
        }
        if (attempt >= 2) throw err;
      }
    }
  }

  private async waitHealthy(context: Context, options: { throwIfNot: boolean }): Promise<void> {
    const ctl = this.etcdctl();
    const deadline = this.deps.clock.now() + this.timing.healthyMs;
    for (;;) {
      if (await ctl.healthy(this.clientUrl(), context)) return;
      if ((await this.deps.supervisor.running(this.service())) === undefined) {
        throw new LocalEtcdExited(this.service().logFile);
      }
      if (this.deps.clock.now() >= deadline) {
        if (options.throwIfNot) throw new Error(`etcd: not healthy after ${this.timing.healthyMs} ms`);
        this.deps.logger.warn({}, 'etcd: running but not healthy (no quorum reachable?)');
        return;
      }
      await this.deps.clock.sleep(this.timing.backoffMs, context);
    }
  }

  /** Retries `op` with doubling back-off until it succeeds, `retryable` says no, or `budgetMs` is spent. */
  private async retry<T>(what: string, op: () => Promise<T>, budgetMs: number, context: Context, retryable: (err: unknown) => boolean = () => true): Promise<T> {
    const deadline = this.deps.clock.now() + budgetMs;
    let delay = this.timing.backoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (context.signal?.aborted === true || !retryable(err) || this.deps.clock.now() + delay > deadline) throw err;
        this.deps.logger.debug({ attempt, err: String(err) }, `etcd: ${what} failed, retrying`);
      }
      await this.deps.clock.sleep(delay, context);
      delay = Math.min(delay * 2, MAX_BACKOFF_MS);
    }
  }

  /** What the etcd server logged after byte `from` (this start's output), at most the last 16 KiB. */
  private async logSince(from: number): Promise<string> {
    try {
      const bytes = await readFile(this.service().logFile);
      return bytes.subarray(Math.max(from, bytes.length - 16_384)).toString('utf8');
    } catch {
      return '';
    }
  }

  private async moveDataAside(why: string): Promise<void> {
    if (!(await exists(this.memberDir()))) return;
    const aside = `${this.memberDir()}.removed-${this.deps.clock.now()}`;
    await rename(this.memberDir(), aside);
    this.deps.logger.info({ aside, why }, 'etcd: moved member data aside');
  }

  // ---- names and addresses ----------------------------------------------------------------

  private votingNames(list: readonly EtcdMember[]): string[] {
    const unnamed = list.filter((m) => m.name === '').map((m) => m.id);
    if (unnamed.length > 0) this.deps.logger.warn({ ids: unnamed }, 'etcd: members that never started (no name) are not reported');
    return list.filter((m) => !m.isLearner && m.name !== '').map((m) => m.name).sort();
  }

  private endpointsOf(nodes: readonly string[]): string[] {
    return nodes.map((n) => this.deps.clientUrlOf(n)).filter((u): u is string => u !== undefined);
  }

  private hasData(): Promise<boolean> {
    return exists(join(this.memberDir(), 'member'));
  }

  private memberDir(): string {
    return join(this.settings().dataDir, this.deps.self());
  }

  private service(): Omit<ServiceSpec, 'command' | 'args'> {
    const base = join(this.settings().dataDir, this.deps.self());
    return { pidFile: `${base}.pid`, logFile: `${base}.log`, marker: `${base}` };
  }

  private host(): string {
    const host = this.deps.advertiseHost();
    if (host === undefined) throw new Error('etcd: this node has no address to advertise yet');
    return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  }

  private clientUrl(): string {
    return `http://${this.host()}:${this.settings().clientPort}`;
  }

  private peerUrl(): string {
    return `http://${this.host()}:${this.settings().peerPort}`;
  }

  private etcdctl(): Etcdctl {
    return new Etcdctl(this.deps.runner, this.settings().etcdctlBinary);
  }
}

class LocalEtcdExited extends Error {
  override readonly name = 'LocalEtcdExited';
  constructor(logFile: string) {
    super(`etcd: the local etcd exited (see ${logFile})`);
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** A cluster name as a token: letters, digits, '.', '_' and '-' only. */
function tokenSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 48) || 'pace';
}
