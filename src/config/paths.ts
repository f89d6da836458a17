/**
 * Where PACE keeps its files by default. The agent's config and the CLI's client commands both
 * read the data directory default from here, so `pace status` finds the daemon that
 * `pace agent` started without flags.
 */

/** The data directory when neither `--data-dir` nor `PACE_DATA_DIR` says otherwise. */
export const DEFAULT_DATA_DIR = '/var/lib/pace';

/** The environment variable that overrides {@link DEFAULT_DATA_DIR}. */
export const DATA_DIR_ENV = 'PACE_DATA_DIR';

/** The data directory default for this environment: `PACE_DATA_DIR` when set and non-empty. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[DATA_DIR_ENV];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_DATA_DIR;
}
