/**
 * etcdctl (v3 API, etcd 3.4) through the ProcessRunner: builds the commands and parses their
 * output. Pure parsing functions are exported for unit tests.
 *
 * Member IDs are 64-bit: `member list -w json` prints them as decimal numbers that JSON.parse
 * would round, so the parser quotes them first and the driver works with the hex form
 * etcdctl's `member remove`/`member promote` take.
 */
import type { ProcessResult, ProcessRunner } from '../seams/process-runner.js';

export interface EtcdMember {
  /** Hex member ID, as `member add` prints it and `member remove/promote` take it. */
  id: string;
  /** Empty until the member has started (gotcha: use the ID `member add` printed). */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export interface MemberAdded {
  id: string;
  /** `ETCD_INITIAL_CLUSTER` exactly as printed: the joiner must start with this. */
  initialCluster: string;
}

export class EtcdctlError extends Error {
  override readonly name = 'EtcdctlError';
  constructor(readonly args: readonly string[], readonly result: ProcessResult) {
    const why = result.timedOut ? `timed out after ${result.durationMs} ms` : result.signal ? `killed by ${result.signal}` : `exited ${result.exitCode}`;
    const tail = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-2).join(' | ');
    super(`etcdctl ${args.filter((a) => !a.startsWith('--endpoints')).join(' ')} ${why}${tail ? `: ${tail}` : ''}`);
  }
}

/** Per-call limits: etcdctl's own, and the runner's kill timeout above them. */
export const ETCDCTL_DIAL_TIMEOUT = '2s';
export const ETCDCTL_COMMAND_TIMEOUT = '5s';
export const ETCDCTL_PROCESS_TIMEOUT_MS = 10_000;

export class Etcdctl {
  constructor(private readonly runner: ProcessRunner, private readonly binary: string) {}

  async run(endpoints: readonly string[], args: readonly string[], context: { signal?: AbortSignal }): Promise<string> {
    if (endpoints.length === 0) throw new Error(`etcdctl ${args.join(' ')}: no endpoint to ask`);
    const full = [`--endpoints=${endpoints.join(',')}`, `--dial-timeout=${ETCDCTL_DIAL_TIMEOUT}`, `--command-timeout=${ETCDCTL_COMMAND_TIMEOUT}`, ...args];
    const result = await this.runner.run({ command: this.binary, args: full, env: { ETCDCTL_API: '3' }, timeoutMs: ETCDCTL_PROCESS_TIMEOUT_MS }, context);
    if (result.exitCode !== 0) throw new EtcdctlError(full, result);
    return result.stdout;
  }

  async memberList(endpoints: readonly string[], context: { signal?: AbortSignal }): Promise<EtcdMember[]> {
    return parseMemberList(await this.run(endpoints, ['member', 'list', '-w', 'json'], context));
  }

  async memberAddLearner(endpoints: readonly string[], name: string, peerUrl: string, context: { signal?: AbortSignal }): Promise<MemberAdded> {
    return parseMemberAdd(await this.run(endpoints, ['member', 'add', name, '--learner', `--peer-urls=${peerUrl}`], context));
  }

  async memberPromote(endpoints: readonly string[], id: string, context: { signal?: AbortSignal }): Promise<void> {
    await this.run(endpoints, ['member', 'promote', id], context);
  }

  async memberRemove(endpoints: readonly string[], id: string, context: { signal?: AbortSignal }): Promise<void> {
    await this.run(endpoints, ['member', 'remove', id], context);
  }

  /** True when the endpoint answers a health check (a quorum read) in time. */
  async healthy(endpoint: string, context: { signal?: AbortSignal }): Promise<boolean> {
    try {
      await this.run([endpoint], ['endpoint', 'health'], context);
      return true;
    } catch (err) {
      if (context.signal?.aborted === true) throw err;
      return false;
    }
  }
}

/** Parses `etcdctl member list -w json` (3.4). */
export function parseMemberList(stdout: string): EtcdMember[] {
  const quoted = stdout.replace(/"ID":\s*(\d+)/g, '"ID":"$1"');
  const value = JSON.parse(quoted) as { members?: { ID: string; name?: string; peerURLs?: string[]; clientURLs?: string[]; isLearner?: boolean }[] };
  return (value.members ?? []).map((m) => ({
    id: BigInt(m.ID).toString(16),
    name: m.name ?? '',
    peerUrls: m.peerURLs ?? [],
    clientUrls: m.clientURLs ?? [],
    isLearner: m.isLearner === true,
  }));
}

/**
 * Parses `etcdctl member add` (3.4):
 *
 *     Member 8e9e05c52164694d added to cluster cdf818194e3a8c32
 *
 *     ETCD_NAME="b"
 *     ETCD_INITIAL_CLUSTER="a=http://…:2380,b=http://…:2380"
 *     …
 */
export function parseMemberAdd(stdout: string): MemberAdded {
  const id = /Member\s+([0-9a-f]+)\s+added/i.exec(stdout)?.[1];
  const initialCluster = /^ETCD_INITIAL_CLUSTER="([^"]*)"/m.exec(stdout)?.[1];
  if (id === undefined || initialCluster === undefined) throw new Error(`unexpected 'etcdctl member add' output: ${stdout.trim().slice(0, 300)}`);
  return { id, initialCluster };
}

/**
 * The `--initial-cluster` a member that was added but never started needs, rebuilt from the
 * member list (what `member add` printed): every member by name, the unstarted one as `name`.
 */
export function initialClusterFor(members: readonly EtcdMember[], self: { id: string; name: string }): string {
  return members
    .filter((m) => m.id === self.id || m.name !== '')
    .map((m) => `${m.id === self.id ? self.name : m.name}=${m.peerUrls.join(`,${m.id === self.id ? self.name : m.name}=`)}`)
    .join(',');
}
