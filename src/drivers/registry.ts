/**
 * The drivers this build of PACE runs on a real device, as a registry the node builds them
 * from (src/roles/driver.ts). The daemon passes `realDrivers(...)` to createNode; a policy that
 * names a driver left out here fails visibly (DriverUnavailableError in `pace status`).
 */
import type { DriverRegistry } from '../roles/driver.js';
import type { Clock } from '../seams/clock.js';
import type { ProcessRunner } from '../seams/process-runner.js';
import type { ServiceSupervisor } from '../seams/service-supervisor.js';
import { EtcdDriver } from './etcd-driver.js';
import { ExecDriver } from './exec-driver.js';
import { LogDriver } from './log-driver.js';
import { hostFromAddresses } from './member-host.js';

export interface RealDriverDeps {
  runner: ProcessRunner;
  supervisor: ServiceSupervisor;
  clock: Clock;
}

export function realDrivers(deps: RealDriverDeps): DriverRegistry {
  return {
    log: (ctx) => new LogDriver(ctx.logger),
    exec: (ctx) => new ExecDriver(ctx.settings, { runner: deps.runner, logger: ctx.logger, self: () => ctx.self }),
    // etcd advertises the node's own routable mesh address; another member's etcd is found at
    // the host of its member record's addresses and the policy's clientPort (docs/DRIVERS.md).
    etcd: (ctx) =>
      new EtcdDriver(ctx.settings, {
        runner: deps.runner,
        supervisor: deps.supervisor,
        clock: deps.clock,
        logger: ctx.logger,
        self: () => ctx.self,
        cluster: () => ctx.cluster,
        advertiseHost: () => hostFromAddresses(ctx.addresses()),
        clientUrlOf: (id) => {
          const host = hostFromAddresses(ctx.memberAddresses(id));
          return host === undefined ? undefined : `http://${host.includes(':') ? `[${host}]` : host}:${ctx.settings().clientPort}`;
        },
      }),
  };
}
