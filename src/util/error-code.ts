/** Reading Node's system errors (`ENOENT`, `ECONNREFUSED`, …) without `any`. */

/** The `code` of a Node system error, or undefined for anything else. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** An error's message, or the thrown value as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
