/**
 * The agent: one PACE node on a real device — the process around the node that createNode
 * assembles. It builds the real seams (FileStorage in the data dir, SystemClock, SystemRandom,
 * pino logs on stdout, the libp2p mesh on the stored node key, the real drivers), reads the
 * configuration and trusted keys, serves the control API, and applies config reloads.
 */
import { readFile } from 'node:fs/promises';
import { pino, type Logger } from 'pino';
import type { ResolvedConfig } from '../config/agent-config.js';
import { realDrivers } from '../drivers/registry.js';
import { SpawnProcessRunner } from '../seams/spawn-process-runner.js';
import { SpawnServiceSupervisor } from '../seams/spawn-service-supervisor.js';
import { agentMembership } from '../config/membership-timing.js';
import type { Libp2pMesh } from '../mesh/libp2p-mesh.js';
import { createNode, type PaceNode } from '../node/create-node.js';
import { createNodeMesh } from '../node/node-mesh.js';
import { FileStorage } from '../seams/file-storage.js';
import { SystemClock } from '../seams/system-clock.js';
import { SystemRandom } from '../seams/system-random.js';
import { readPublicKeyFile } from '../signing/key-files.js';
import { parsePublicKeyLine, PUBLIC_KEY_TYPE, type OperatorPublicKey } from '../signing/operator-key.js';
import { nodeControl } from './control-impl.js';
import { API_HOST, ControlServer } from '../api/control-server.js';

export interface Agent {
  readonly node: PaceNode;
  readonly mesh: Libp2pMesh;
  readonly logger: Logger;
  /** Leaves the cluster gracefully, then stops. */
  leave(): Promise<void>;
  stop(): Promise<void>;
  /** Applies a re-read configuration (SIGHUP): log level, labels, facts, trusted keys. */
  reload(resolved: ResolvedConfig): Promise<void>;
}

/** Settings only a restart can change (the daemon says so on reload instead of ignoring them). */
const RESTART_ONLY = ['nodeName', 'clusterName', 'dataDir', 'listen', 'bootstrap', 'mdns', 'networkKeyFile', 'api', 'membership'] as const;

export interface AgentOptions {
  version: string;
  /** Where logs go. @default stdout */
  destination?: NodeJS.WritableStream;
  /** Called after a leave requested through the API has completed (the command then exits). */
  onLeft?: () => void;
}

export async function startAgent(resolved: ResolvedConfig, options: AgentOptions): Promise<Agent> {
  const { config, facts } = resolved;
  const clock = new SystemClock();
  const random = new SystemRandom();
  const base = pino({ level: config.logLevel, base: { node: config.nodeName, cluster: config.clusterName } }, options.destination ?? process.stdout);
  const storage = new FileStorage(config.dataDir);
  const trustedKeys = await loadTrustedKeys(config.trustedKeys);
  const swarmKey = config.networkKeyFile === '' ? undefined : await readFile(config.networkKeyFile);

  const mesh = await createNodeMesh(
    { storage, clock, random, logger: base },
    { cluster: config.clusterName, listen: config.listen, bootstrap: config.bootstrap, mdns: config.mdns.enabled, ...(swarmKey ? { swarmKey } : {}) },
  );
  const logger = base.child({ peer: mesh.self });
  const drivers = realDrivers({ runner: new SpawnProcessRunner({ clock }), supervisor: new SpawnServiceSupervisor({ clock }), clock });
  const { membership, syncIntervalMs } = agentMembership(config.membership);
  const node = await createNode(
    { mesh, storage, clock, random, logger, drivers },
    {
      cluster: config.clusterName,
      member: { name: config.nodeName, addresses: [], facts, labels: config.labels },
      advertise: () => mesh.addresses(),
      trustedKeys,
      membership,
      replication: { syncIntervalMs },
    },
  );
  node.roles.onRoleChange(({ from, to }) => logger.info({ event: 'role', from, to }, `role ${from ?? 'none'} → ${to}`));
  await node.start();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await api.stop();
      await node.stop();
      logger.info({}, 'agent stopped');
    })());
  const leave = async (): Promise<void> => {
    await node.leave();
    await stop();
  };
  if (config.api.host !== API_HOST) logger.warn({ host: config.api.host }, `the control API only listens on ${API_HOST}`);
  const api = new ControlServer(
    {
      control: nodeControl(node, { name: config.nodeName, cluster: config.clusterName, version: options.version, clock, peers: () => mesh.peers().length, leave: () => {
        // Answer the request first; the daemon then leaves and exits.
        clock.setTimer(0, () => void leave().then(options.onLeft));
        return Promise.resolve();
      } }),
      storage,
      random: random.fork('api'),
      logger,
    },
    { listen: config.api.socket === '' ? { port: config.api.port } : { socket: config.api.socket } },
  );
  try {
    await api.start();
  } catch (err) {
    await node.stop(); // never leave a half-started daemon behind
    throw err;
  }
  logger.info({ addresses: mesh.addresses(), api: api.endpoint, trustedKeys: trustedKeys.map((k) => k.keyId) }, 'agent started');
  return {
    node,
    mesh,
    logger,
    leave,
    stop,
    async reload(next: ResolvedConfig) {
      for (const key of RESTART_ONLY) {
        if (JSON.stringify(next.config[key]) !== JSON.stringify(config[key])) logger.warn({ setting: key }, `config reload: '${key}' changed; it takes effect after a restart`);
      }
      base.level = next.config.logLevel;
      node.policies.setTrustedKeys(await loadTrustedKeys(next.config.trustedKeys));
      node.updateSelf({ labels: next.config.labels, facts: next.facts });
      logger.info({ trustedKeys: next.config.trustedKeys.length }, 'config reloaded');
    },
  };
}

/** Trusted keys are `pace-ed25519 …` lines or paths of .pub files. */
async function loadTrustedKeys(entries: readonly string[]): Promise<OperatorPublicKey[]> {
  const keys: OperatorPublicKey[] = [];
  for (const [i, entry] of entries.entries()) {
    if (entry.startsWith(`${PUBLIC_KEY_TYPE} `)) keys.push(parsePublicKeyLine(entry, `trustedKeys[${i}]`));
    else keys.push(...(await readPublicKeyFile(entry)));
  }
  return keys;
}
