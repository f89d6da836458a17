/**
 * What a simulated node logs. Each node gets the logger the daemon would give it, silent by
 * default; `pace sim run --logs` shows chosen nodes' own lines stamped with the virtual time.
 * That is how a replayed failure is read: the checker names the moment, the trace the messages,
 * and the logs what each node saw and decided (a verdict written, a control-plane change, a
 * role taken), in order. Logging never changes a run: nothing a logger does reaches the nodes,
 * the scheduler or the trace, so a seed gives the same trace hash with and without it.
 */
import type { StateLogger } from '../../src/state/logger.js';

export type NodeLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Levels from the most verbose. */
export const NODE_LOG_LEVELS: readonly NodeLogLevel[] = ['debug', 'info', 'warn', 'error'];

/** The logger surface `createNode()` takes (a pino child logger in the daemon). */
export type NodeLogger = StateLogger & { debug(obj: object, msg?: string): void };

export interface NodeLogLine {
  /** Virtual time (ms). */
  time: number;
  node: string;
  level: NodeLogLevel;
  msg: string;
  fields: Record<string, unknown>;
}

/** Which nodes' lines to keep, from which level, and where they go. */
export interface NodeLogSink {
  nodes: 'all' | readonly string[];
  /** @default 'info' */
  level?: NodeLogLevel;
  write(line: NodeLogLine): void;
}

const ignore = (): void => undefined;

/** What every node gets without a sink. */
export const SILENT_NODE_LOGGER: NodeLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

/** The logger for node `node`: its lines at `level` or above reach `sink`, stamped with `now()`. */
export function nodeLogger(node: string, now: () => number, sink: NodeLogSink | undefined): NodeLogger {
  if (sink === undefined || (sink.nodes !== 'all' && !sink.nodes.includes(node))) return SILENT_NODE_LOGGER;
  const min = NODE_LOG_LEVELS.indexOf(sink.level ?? 'info');
  const at = (level: NodeLogLevel) =>
    NODE_LOG_LEVELS.indexOf(level) < min ? ignore : (fields: object, msg?: string): void => sink.write({ time: now(), node, level, msg: msg ?? '', fields: { ...fields } });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** One line of text: `   160.940 s  n07  info   writing down verdict {"node":"n02",…}`. */
export function formatNodeLogLine(line: NodeLogLine): string {
  const fields = Object.keys(line.fields).length === 0 ? '' : ` ${JSON.stringify(line.fields, printable)}`;
  return `${(line.time / 1000).toFixed(3).padStart(10)} s  ${line.node}  ${line.level.padEnd(5)}  ${line.msg}${fields}`;
}

/** JSON for what log fields hold besides plain data: errors by message, bytes by length. */
function printable(_key: string, value: unknown): unknown {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (typeof value === 'bigint') return value.toString();
  return value;
}
