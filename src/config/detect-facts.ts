/**
 * Detecting this host's facts (cpus, memory, disk, arch) and name from the OS, for the facts
 * the config does not override. The OS is read through a small {@link HostProbe} so the
 * mapping is testable; {@link systemProbe} is the real one (node:os, statfs).
 */
import { existsSync, statfsSync } from 'node:fs';
import { arch, availableParallelism, hostname, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { NodeFacts } from '../policy/types.js';

/** What the agent learns about its host before reading the config. */
export interface HostInfo {
  hostname: string;
  facts: NodeFacts;
}

/** Raw readings from the OS. */
export interface HostProbe {
  hostname(): string;
  /** Logical CPUs usable by this process. */
  cpus(): number;
  /** Total memory in bytes. */
  memoryBytes(): number;
  /** Size in bytes of the file system holding `dir` (or its nearest existing parent). */
  diskBytes(dir: string): number;
  /** Node's `process.arch` name (`x64`, `arm64`, …). */
  arch(): string;
}

export const systemProbe: HostProbe = {
  hostname: () => hostname(),
  cpus: () => availableParallelism(),
  memoryBytes: () => totalmem(),
  diskBytes: (dir) => {
    let d = resolve(dir);
    while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
    const s = statfsSync(d);
    return s.blocks * s.bsize;
  },
  arch: () => arch(),
};

/** Node's arch names mapped to the Go/OCI names policies use (`node.arch == 'amd64'`). */
const ARCH_NAMES: Readonly<Record<string, string>> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', mips: 'mips', mipsel: 'mipsle' };

/** The Go/OCI architecture name for a Node `process.arch` value (unknown names pass through). */
export function archName(nodeArch: string): string {
  return ARCH_NAMES[nodeArch] ?? nodeArch;
}

/**
 * Reads the host's name and facts. Memory is whole MiB, disk whole GiB of the file system
 * holding `dataDir`; a probe that fails (e.g. statfs on an odd mount) reports 0 for that fact.
 */
export function detectHostInfo(dataDir: string, probe: HostProbe = systemProbe): HostInfo {
  const safe = (read: () => number): number => {
    try {
      const n = read();
      return Number.isFinite(n) && n > 0 ? n : 0;
    } catch {
      return 0;
    }
  };
  return {
    hostname: probe.hostname(),
    facts: {
      cpus: Math.max(1, Math.floor(safe(() => probe.cpus()))),
      memoryMB: Math.floor(safe(() => probe.memoryBytes()) / 2 ** 20),
      diskGB: Math.floor(safe(() => probe.diskBytes(dataDir)) / 2 ** 30),
      arch: archName(probe.arch()),
    },
  };
}
