/**
 * Per-link behaviour of the simulated network: latency, jitter, loss and duplication for each
 * directed link, with a fleet-wide default and per-link overrides.
 */
import type { PeerId } from '../../src/mesh/mesh.js';

/** How one directed link treats each message sent over it. */
export interface LinkProfile {
  /** Fixed one-way delay (ms). */
  latencyMs: number;
  /** Extra delay drawn uniformly from [0, jitterMs) per message; reordering falls out of it. */
  jitterMs: number;
  /** Probability in [0, 1] that a message is lost. */
  loss: number;
  /** Probability in [0, 1] that a broadcast message arrives twice (independent delay and loss). */
  duplicate: number;
}

/** A switched LAN: 1 ms one way, up to 1 ms of jitter, nothing lost or duplicated. */
export const DEFAULT_LINK: Readonly<LinkProfile> = Object.freeze({ latencyMs: 1, jitterMs: 1, loss: 0, duplicate: 0 });

/** Throws RangeError unless every field of `profile` is in range. */
export function assertLinkProfile(profile: Partial<LinkProfile>): void {
  for (const key of ['latencyMs', 'jitterMs'] as const) {
    const v = profile[key];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new RangeError(`link ${key} must be a finite number >= 0, got ${v}`);
  }
  for (const key of ['loss', 'duplicate'] as const) {
    const v = profile[key];
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new RangeError(`link ${key} must be a probability in [0, 1], got ${v}`);
  }
}

/**
 * The link profiles of a fleet. `profile(from, to)` is the default merged with the override
 * for that directed link, if any.
 */
export class LinkTable {
  #default: LinkProfile;
  readonly #overrides = new Map<string, LinkProfile>();

  constructor(defaults: Partial<LinkProfile> = {}) {
    assertLinkProfile(defaults);
    this.#default = { ...DEFAULT_LINK, ...defaults };
  }

  /** Changes the default for every link without an override. */
  setDefault(profile: Partial<LinkProfile>): void {
    assertLinkProfile(profile);
    this.#default = { ...this.#default, ...profile };
  }

  /** Overrides the directed link `from → to` (fields left out come from the default). */
  set(from: PeerId, to: PeerId, profile: Partial<LinkProfile>): void {
    assertLinkProfile(profile);
    const current = this.#overrides.get(linkKey(from, to)) ?? {};
    this.#overrides.set(linkKey(from, to), { ...this.#default, ...current, ...profile });
  }

  /** Removes every override; all links follow the default again. */
  clearOverrides(): void {
    this.#overrides.clear();
  }

  profile(from: PeerId, to: PeerId): Readonly<LinkProfile> {
    if (this.#overrides.size === 0) return this.#default;
    return this.#overrides.get(linkKey(from, to)) ?? this.#default;
  }

  defaults(): Readonly<LinkProfile> {
    return this.#default;
  }
}

function linkKey(from: PeerId, to: PeerId): string {
  return `${from}\u0000${to}`;
}
