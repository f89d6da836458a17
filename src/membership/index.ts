/** Failure detection (SWIM + Lifeguard) for PACE; see docs/MEMBERSHIP.md. */
export { FailureDetector, type FailureDetectorInit, type MemberView } from './detector.js';
export { membershipConfig, validateMembershipConfig, type MembershipConfig } from './config.js';
export {
  DEFAULT_MEMBERSHIP,
  DEFAULT_MEMBERSHIP_PROFILE,
  MEMBERSHIP_PROFILE_NAMES,
  MEMBERSHIP_PROFILES,
  membershipFor,
  type MembershipProfile,
  type MembershipProfileName,
  type MembershipSettings,
} from './profiles.js';
export type { MemberChange, MembershipEventName, MembershipEvents, MembershipListener, MembershipLogger, Verdict } from './events.js';
export { MembershipConfigError, SwimMessageRejectedError } from './errors.js';
export type { MembershipStats } from './stats.js';
export { MEMBER_STATUSES, supersedes, type MemberStatus, type StatusClaim } from './status.js';
export { retransmitLimit, suspicionBounds, suspicionScale, suspicionTimeoutMs, type SuspicionBounds } from './timing.js';
export { DROP_REASONS, SWIM_WIRE_VERSION, decodeMessage, encodeMessage, swimProtocol, type DropReason, type SwimMessage, type WireUpdate } from './wire.js';
