/**
 * Errors raised by the membership layer. Each has a stable `name`, so callers branch on
 * `err.name` rather than on message text.
 */

/** A membership config value is missing, of the wrong type, out of range, or an unknown key. */
export class MembershipConfigError extends Error {
  override readonly name = 'MembershipConfigError';
  constructor(
    /** The offending field (e.g. `probeTimeoutMs`). */
    readonly field: string,
    reason: string,
  ) {
    super(`membership config: ${field}: ${reason}`);
  }
}

/**
 * Returned to the mesh (as a rejected request) when an inbound SWIM request is dropped: it was
 * oversized, not JSON, of an unknown version or type, or malformed. The drop is counted in
 * `stats().drops` under `reason`; the detector itself never throws on bad input.
 */
export class SwimMessageRejectedError extends Error {
  override readonly name = 'SwimMessageRejectedError';
  constructor(
    readonly reason: string,
    detail: string,
  ) {
    super(`swim message dropped (${reason}): ${detail}`);
  }
}
