/** Exit codes of every `pace` command (documented in docs/CLI.md). Killed by signal n: 128+n. */
export const ExitCode = {
  ok: 0,
  /** A bug or an unexpected failure inside PACE. */
  internal: 1,
  /** Bad usage, or a bad config or input file (other than a policy). */
  usage: 2,
  /** The local daemon could not be reached. */
  unreachable: 3,
  /** A driver failed to perform a role. */
  driver: 4,
  /** A policy is invalid or was rejected. */
  policyInvalid: 5,
  /** `pace sim`: a simulated run violated an invariant (or did not replay identically). */
  invariantViolated: 6,
} as const;

/** An error that ends a command with a specific exit code and a message for the user. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(readonly exitCode: number, message: string, readonly details: string[] = []) {
    super(message);
  }
}
