/**
 * The logging surface the state layer needs: a subset of pino's `Logger`, so the daemon passes
 * a pino child logger and tests pass a recorder. Each call is `(fields, message)`.
 */
export interface StateLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}
