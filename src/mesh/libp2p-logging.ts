/**
 * libp2p's own logging: off unless asked for. libp2p components log through a
 * ComponentLogger; PACE hands them a silent one by default so its stdout stays NDJSON from
 * pino only. With `libp2pDebug`, libp2p's default `debug`-based logger is used (DEBUG=libp2p:*).
 */
import type { ComponentLogger, Logger } from '@libp2p/interface';
import { defaultLogger } from '@libp2p/logger';

function silentLogger(): Logger {
  const log = ((): void => {}) as unknown as Logger;
  log.error = (): void => {};
  log.trace = (): void => {};
  log.enabled = false;
  log.newScope = (): Logger => silentLogger();
  return log;
}

/** A ComponentLogger that drops everything. */
export function silentComponentLogger(): ComponentLogger {
  return { forComponent: () => silentLogger() };
}

export function libp2pLogger(debug: boolean): ComponentLogger {
  return debug ? defaultLogger() : silentComponentLogger();
}
