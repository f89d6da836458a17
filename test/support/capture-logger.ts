/** A real pino logger whose lines are kept in memory, for asserting on what a node logged. */
import { pino } from 'pino';
import type { Logger } from 'pino';

export type LogRecord = { level: number; msg: string } & Record<string, unknown>;

export interface CapturedLogger {
  logger: Logger;
  lines: LogRecord[];
}

/** pino at `level` (default `info`), writing parsed JSON lines into `lines`. */
export function captureLogger(level: pino.Level = 'info', base: Record<string, unknown> = {}): CapturedLogger {
  const lines: LogRecord[] = [];
  const logger = pino({ level, base }, {
    write(line: string): void {
      lines.push(JSON.parse(line) as LogRecord);
    },
  });
  return { logger, lines };
}
