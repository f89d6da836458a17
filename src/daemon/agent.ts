/**
 * The agent: one PACE node on a real device. The composition root for production — the only
 * place (with the simulator) that builds real seams: libp2p mesh, FileStorage in the data dir,
 * SystemClock, SystemRandom, pino logs on stdout, the policy-selected driver.
 */
import { readFile } from 'node:fs/promises';
import { pino, type Logger } from 'pino';
import type { ResolvedConfig } from '../config/agent-config.js';
import { LogDriver } from '../drivers/log-driver.js';
import { ExecDriver } from '../drivers/exec-driver.js';
import { parseExecSettings, type ExecSettings } from '../drivers/exec-settings.js';
import { EtcdDriver } from '../drivers/etcd-driver.js';
import { parseEtcdSettings, type EtcdSettings } from '../drivers/etcd-settings.js';
import { hostFromAddresses } from '../drivers/member-host.js';
import { SpawnProcessRunner } from '../seams/spawn-process-runner.js';
import { SpawnServiceSupervisor } from '../seams/spawn-service-supervisor.js';
import { agentMembership } from '../config/membership-timing.js';
import { loadOrCreateNodeKey } from '../mesh/identity.js';
import { createLibp2pMesh, type Libp2pMesh } from '../mesh/libp2p-mesh.js';
import { createNode, type PaceNode } from '../node/create-node.js';
import { FileStorage } from '../seams/file-storage.js';
import { SystemClock } from '../seams/system-clock.js';
import { SystemRandom } from '../seams/system-random.js';
import { readPublicKeyFile } from '../signing/key-files.js';
import { parsePublicKeyLine, PUBLIC_KEY_TYPE, type OperatorPublicKey } from '../signing/operator-key.js';
import { PolicyDriver } from './policy-driver.js';
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
  const privateKey = await loadOrCreateNodeKey(storage);
  const trustedKeys = await loadTrustedKeys(config.trustedKeys);
  const swarmKey = config.networkKeyFile === '' ? undefined : await readFile(config.networkKeyFile);

  const mesh = createLibp2pMesh(
    { cluster: config.clusterName, listen: config.listen, bootstrap: config.bootstrap, mdns: config.mdns.enabled, ...(swarmKey ? { swarmKey } : {}) },
    { clock, random: random.fork('mesh'), privateKey, logger: base },
  );
  const logger = base.child({ peer: mesh.self });
  // The driver follows the active policy, which the node (created next) holds.
  const ref: { node?: PaceNode } = {};
  const execSettings = (): ExecSettings => {
    const parsed = parseExecSettings(ref.node?.policies.active()?.policy.driver.settings ?? {});
    if (Array.isArray(parsed)) throw new Error(`exec driver settings: ${parsed.map(([f, m]) => `${f}: ${m}`).join('; ')}`);
    return parsed;
  };
  const etcdSettings = (): EtcdSettings => {
    const parsed = parseEtcdSettings(ref.node?.policies.active()?.policy.driver.settings ?? {});
    if (Array.isArray(parsed)) throw new Error(`etcd driver settings: ${parsed.map(([f, m]) => `${f}: ${m}`).join('; ')}`);
    return parsed;
  };
  const runner = new SpawnProcessRunner({ clock });
  const driver = new PolicyDriver(() => ref.node?.policies.active(), {
    log: new LogDriver(logger),
    exec: new ExecDriver(execSettings, { runner, logger, self: () => mesh.self }),
    // etcd advertises the node's own routable mesh address; another member's etcd is found at
    // the host of its member record's addresses and the policy's clientPort (docs/DRIVERS.md).
    etcd: new EtcdDriver(etcdSettings, {
      runner,
      supervisor: new SpawnServiceSupervisor({ clock }),
      clock,
      logger,
      self: () => mesh.self,
      cluster: () => config.clusterName,
      advertiseHost: () => hostFromAddresses(mesh.addresses()),
      clientUrlOf: (id) => {
        const host = hostFromAddresses(ref.node?.state.doc.member(id)?.addresses ?? []);
        return host === undefined ? undefined : `http://${host.includes(':') ? `[${host}]` : host}:${etcdSettings().clientPort}`;
      },
    }),
  });
  const { membership, syncIntervalMs } = agentMembership(config.membership);
  const node = await createNode(
    { mesh, storage, clock, random, logger, driver },
    {
      cluster: config.clusterName,
      member: { name: config.nodeName, addresses: [], facts, labels: config.labels },
      advertise: () => mesh.addresses(),
      trustedKeys,
      membership,
      replication: { syncIntervalMs },
    },
  );
  ref.node = node;
  const started = node;
  started.roles.onRoleChange(({ from, to }) => logger.info({ event: 'role', from, to }, `role ${from ?? 'none'} → ${to}`));
  await started.start();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await api.stop();
      await started.stop();
      logger.info({}, 'agent stopped');
    })());
  const leave = async (): Promise<void> => {
    await started.leave();
    await stop();
  };
  if (config.api.host !== API_HOST) logger.warn({ host: config.api.host }, `the control API only listens on ${API_HOST}`);
  const api = new ControlServer(
    {
      control: nodeControl(started, { name: config.nodeName, cluster: config.clusterName, version: options.version, clock, peers: () => mesh.peers().length, leave: () => {
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
    await started.stop(); // never leave a half-started daemon behind
    throw err;
  }
  logger.info({ addresses: mesh.addresses(), api: api.endpoint, trustedKeys: trustedKeys.map((k) => k.keyId) }, 'agent started');
  return {
    node: started,
    mesh,
    logger,
    leave,
    stop,
    async reload(next: ResolvedConfig) {
      for (const key of RESTART_ONLY) {
        if (JSON.stringify(next.config[key]) !== JSON.stringify(config[key])) logger.warn({ setting: key }, `config reload: '${key}' changed; it takes effect after a restart`);
      }
      base.level = next.config.logLevel;
      started.policies.setTrustedKeys(await loadTrustedKeys(next.config.trustedKeys));
      started.updateSelf({ labels: next.config.labels, facts: next.facts });
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
