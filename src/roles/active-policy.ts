import type { Policy } from '../policy/types.js';

/** The policy a node evaluates now, as its policy store adopted it. */
export interface ActivePolicy {
  policy: Policy;
  /** Identifies the policy version (name@version:signer:yaml digest) for the view digest. */
  key: string;
}
