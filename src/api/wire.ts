/**
 * The control API on the wire (docs/API.md): routes, and the JSON bodies that are not already
 * {@link NodeControl} output shapes. Shared by the server and the client so they cannot drift.
 */
import type { ApplyPolicyResult, NodeControl } from './node-control.js';

/** Every route, by path. */
export const API_PATHS = {
  status: '/v1/status',
  members: '/v1/members',
  policy: '/v1/policy',
  leave: '/v1/leave',
} as const;

/** The active policy as `GET /v1/policy` returns it (`null` when none is active). */
export type PolicyBody = ReturnType<NodeControl['policy']>;

/** `POST /v1/policy` → 200: the envelope was accepted (a rejection is a 422 {@link ApiErrorBody}). */
export type PolicyAcceptedBody = Extract<ApplyPolicyResult, { accepted: true }>;

/** `POST /v1/leave` → 200: the node announced its leave. */
export interface LeaveBody {
  left: true;
}

/**
 * Every non-2xx answer. For 422 (`POST /v1/policy` rejected) `code` is the node's rejection
 * code (e.g. `bad-signature`, `stale-version`); otherwise one of {@link ApiErrorCode}.
 */
export interface ApiErrorBody {
  code: string;
  reason: string;
}

/**
 * Codes of the API's own errors. Stable: clients branch on them.
 * - `unauthorized` (401): no `Authorization: Bearer <token>` header, or the wrong token
 * - `bad-request` (400): the body is not JSON
 * - `not-found` (404): no such route
 * - `method-not-allowed` (405): the route exists; the `Allow` header lists its methods
 * - `payload-too-large` (413): the body is over the server's limit
 * - `internal` (500): the node failed to answer; the reason says why (also logged)
 */
export type ApiErrorCode = 'unauthorized' | 'bad-request' | 'not-found' | 'method-not-allowed' | 'payload-too-large' | 'internal';

/** Reads an {@link ApiErrorBody} out of a parsed JSON body; undefined when it is not one. */
export function asApiErrorBody(value: unknown): ApiErrorBody | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (!('code' in value) || typeof value.code !== 'string') return undefined;
  if (!('reason' in value) || typeof value.reason !== 'string') return undefined;
  return { code: value.code, reason: value.reason };
}
