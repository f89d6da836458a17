/**
 * Several hosts on one machine (docs/REAL-ENV.md): a bridge in a "switch" namespace and one
 * namespace per host, each joined to the bridge by a veth pair, addressed 10.99.0.(10+i)/24.
 * Partitions are nft bridge rules in the switch namespace, so hosts see a real cut: packets
 * between the two sides are dropped, everything else flows.
 *
 * Safety: before anything else a blackhole route for the test subnet is installed in the root
 * namespace, so a mistaken connect from the root namespace fails at once instead of leaving
 * the machine. Nothing is ever attached to the machine's real interfaces. `cleanup()` kills the
 * processes in the namespaces (only this test put them there) and deletes them.
 */
import { execFileSync } from 'node:child_process';

export const TEST_SUBNET = '10.99.0.0/24';

let counter = 0;

/** A network a fleet runs in: which namespace host i lives in and the address it listens on. */
export interface FleetNetwork {
  /** Namespace of host i (0-based). */
  nsOf(i: number): string;
  /** The IPv4 address host i listens on. */
  ipOf(i: number): string;
  /** Namespaces to run clients in (one per distinct namespace). */
  namespaces(): string[];
  cleanup(): Promise<void>;
}

function run(args: string[]): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: 'pipe' });
}

function killAllIn(ns: string): void {
  let pids: number[] = [];
  try {
    pids = run(['ip', 'netns', 'pids', ns]).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

function deleteNs(ns: string): void {
  killAllIn(ns);
  try {
    run(['ip', 'netns', 'del', ns]);
  } catch {
    // gone already
  }
}

/** One private namespace with only loopback: every host is 127.0.0.1 in it. */
export class LoopbackNet implements FleetNetwork {
  private removed = false;
  private constructor(readonly name: string) {}

  static create(): LoopbackNet {
    const name = `pace-a${process.pid}-${counter++}`;
    run(['ip', 'netns', 'add', name]);
    const net = new LoopbackNet(name);
    try {
      run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    } catch (err) {
      deleteNs(name);
      throw err;
    }
    return net;
  }

  nsOf(): string {
    return this.name;
  }

  ipOf(): string {
    return '127.0.0.1';
  }

  namespaces(): string[] {
    return [this.name];
  }

  cleanup(): Promise<void> {
    if (!this.removed) {
      this.removed = true;
      deleteNs(this.name);
    }
    return Promise.resolve();
  }
}

/** N hosts on a bridge in a switch namespace (REAL-ENV.md recipe), with nft partitions. */
export class BridgeNet implements FleetNetwork {
  private removed = false;
  private readonly hosts: string[] = [];
  private partitioned = false;

  private constructor(readonly switchNs: string, private readonly tag: string) {}

  static create(hostCount: number): BridgeNet {
    // The guard first: nothing addressed to the test subnet may leave through the root namespace.
    run(['ip', 'route', 'replace', 'blackhole', TEST_SUBNET]);
    const tag = `${process.pid % 100_000}${counter++}`;
    const net = new BridgeNet(`pace-sw${tag}`, tag);
    try {
      const sw = net.switchNs;
      run(['ip', 'netns', 'add', sw]);
      run(['ip', '-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
      run(['ip', '-n', sw, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
      run(['ip', '-n', sw, 'link', 'set', 'br0', 'up']);
      run(['ip', '-n', sw, 'link', 'set', 'lo', 'up']);
      for (let i = 0; i < hostCount; i++) net.addHost(i);
    } catch (err) {
      void net.cleanup();
      throw err;
    }
    return net;
  }

  private addHost(i: number): void {
    const ns = `pace-h${this.tag}-${i}`;
    const veth = this.vethOf(i);
    run(['ip', 'netns', 'add', ns]);
    this.hosts.push(ns);
    // Created in the switch namespace, then one end moves to the host: nothing touches the root one.
    run(['ip', '-n', this.switchNs, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    run(['ip', '-n', this.switchNs, 'link', 'set', veth, 'master', 'br0', 'up']);
    run(['ip', '-n', ns, 'addr', 'add', `${this.ipOf(i)}/24`, 'dev', 'eth0']);
    run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    run(['ip', '-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
  }

  private vethOf(i: number): string {
    return `v${this.tag}-${i}`.slice(0, 15);
  }

  nsOf(i: number): string {
    const ns = this.hosts[i];
    if (ns === undefined) throw new Error(`no host ${i}`);
    return ns;
  }

  ipOf(i: number): string {
    return `10.99.0.${10 + i}`;
  }

  namespaces(): string[] {
    return [...this.hosts];
  }

  /** Drops every frame between a host in `a` and a host in `b` (both directions). */
  partition(a: readonly number[], b: readonly number[]): void {
    const rules: string[] = ['add table bridge pacepart', 'add chain bridge pacepart pc { type filter hook forward priority 0; }'];
    for (const x of a) {
      for (const y of b) {
        rules.push(`add rule bridge pacepart pc iifname "${this.vethOf(x)}" oifname "${this.vethOf(y)}" drop`);
        rules.push(`add rule bridge pacepart pc iifname "${this.vethOf(y)}" oifname "${this.vethOf(x)}" drop`);
      }
    }
    run(['ip', 'netns', 'exec', this.switchNs, 'nft', rules.join('; ')]);
    this.partitioned = true;
  }

  heal(): void {
    if (!this.partitioned) return;
    run(['ip', 'netns', 'exec', this.switchNs, 'nft', 'delete table bridge pacepart']);
    this.partitioned = false;
  }

  cleanup(): Promise<void> {
    if (this.removed) return Promise.resolve();
    this.removed = true;
    for (const ns of this.hosts) deleteNs(ns);
    deleteNs(this.switchNs);
    return Promise.resolve();
  }
}

/** Why bridged-host tests cannot run here (for `skip`), or undefined. */
export function nftUnavailable(): string | undefined {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return "the 'nft' command (nftables) is missing";
  }
}
