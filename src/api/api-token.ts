/**
 * The control API's bearer token: 32 random bytes as 64 lowercase hex digits, drawn from the
 * injected {@link Random} (the daemon passes the CSPRNG-backed SystemRandom).
 */
import { timingSafeEqual } from 'node:crypto';
import type { Random } from '../seams/random.js';

/** Random bytes in a token (256 bits). */
export const API_TOKEN_BYTES = 32;

/** A fresh token. */
export function newApiToken(random: Random): string {
  return Buffer.from(random.bytes(API_TOKEN_BYTES)).toString('hex');
}

/**
 * Whether an `Authorization` header value carries `token` as `Bearer <token>`.
 * Compares in constant time, so the answer's timing does not leak how much of a guess matched.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return false;
  const given = Buffer.from(match[1] ?? '', 'utf8');
  const expected = Buffer.from(token, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
