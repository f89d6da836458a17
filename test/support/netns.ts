/**
 * Private network namespaces for real-network tests. Every test that uses mDNS or runs several
 * hosts does so inside namespaces it creates here and removes afterwards, so no multicast or
 * test traffic ever touches the machine's real interfaces.
 *
 * A namespace is named `pace-t<pid>-<n>`, has only `lo` (up, multicast enabled, with a
 * 224.0.0.0/4 route so mDNS can send), and `cleanup()` kills the processes this module started
 * in it (by pid), then any process still inside the namespace (only this test can have put one
 * there), then deletes it.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams, SpawnOptionsWithoutStdio } from 'node:child_process';

let counter = 0;

/** Why namespace tests cannot run here (to pass as `skip`), or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return "the 'ip' command (iproute2) is missing";
  }
  return undefined;
}

export class Netns {
  private readonly children = new Set<ChildProcessWithoutNullStreams>();
  private removed = false;

  private constructor(readonly name: string) {}

  /** Creates a namespace with loopback up. @throws when `ip netns add` fails */
  static create(): Netns {
    const name = `pace-t${process.pid}-${counter++}`;
    execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
    const ns = new Netns(name);
    try {
      ns.ip(['link', 'set', 'lo', 'up']);
      ns.ip(['link', 'set', 'lo', 'multicast', 'on']);
      ns.ip(['route', 'add', '224.0.0.0/4', 'dev', 'lo']);
    } catch (err) {
      ns.removeNow();
      throw err;
    }
    return ns;
  }

  /** Runs `ip -n <ns> ...args` synchronously. */
  ip(args: string[]): string {
    return execFileSync('ip', ['-n', this.name, ...args], { encoding: 'utf8', stdio: 'pipe' });
  }

  /** Starts `command args` inside the namespace (`ip netns exec` execs it, so the pid is the command's). */
  spawn(command: string, args: string[], options: SpawnOptionsWithoutStdio = {}): ChildProcessWithoutNullStreams {
    if (this.removed) throw new Error(`namespace ${this.name} was removed`);
    const child = spawn('ip', ['netns', 'exec', this.name, command, ...args], { ...options, stdio: 'pipe' });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Kills what this test started in the namespace and deletes it. Idempotent. */
  async cleanup(): Promise<void> {
    if (this.removed) return;
    const exits = [...this.children].map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          resolve();
        }
      }
    }));
    await Promise.all(exits);
    this.removeNow();
  }

  private removeNow(): void {
    this.removed = true;
    let pids: number[] = [];
    try {
      pids = execFileSync('ip', ['netns', 'pids', this.name], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
    } catch {
      // namespace already gone
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already exited
      }
    }
    try {
      execFileSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
    } catch {
      // already deleted
    }
  }
}

/**
 * Namespaces for one test file: `create()` makes one and remembers it; `cleanup()` removes every
 * one still there (call it from `after`, so a failed test leaves nothing behind).
 */
export class NetnsPool {
  private readonly created: Netns[] = [];

  create(): Netns {
    const ns = Netns.create();
    this.created.push(ns);
    return ns;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.created.map((ns) => ns.cleanup()));
  }
}
