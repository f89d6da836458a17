import { isMemberStatus, type MemberStatus } from './status.js';

/**
 * SWIM wire format, carried as request/response bodies on `/pace/<cluster>/swim/1`.
 *
 * A message is UTF-8 JSON: a discriminated union on `type`, with the format version in `v`.
 * Requests are `ping` and `ping-req`; responses are `ack` and `nack`. Every message carries the
 * sender's own incarnation (`inc`) and a bounded list of piggybacked membership `updates`.
 * Decoding never throws: bad input yields a {@link DropReason} and a detail string.
 */
export const SWIM_WIRE_VERSION = 1;

/** The mesh protocol id for one cluster's failure detector. */
export function swimProtocol(cluster: string): string {
  return `/pace/${cluster}/swim/${SWIM_WIRE_VERSION}`;
}

/** One piggybacked membership claim: `from` says `node` is `status` at `incarnation`. */
export interface WireUpdate {
  readonly node: string;
  readonly status: MemberStatus;
  readonly incarnation: number;
  /** Who made the claim: the suspecter / declarer, or the node itself for alive and left. */
  readonly from: string;
}

interface Envelope {
  readonly v: typeof SWIM_WIRE_VERSION;
  /** The sender's current incarnation; a higher one than known is a direct `alive` claim. */
  readonly inc: number;
  readonly updates: readonly WireUpdate[];
  /**
   * Optional: a short digest of the sender's replicated state (lowercase hex, at most
   * {@link MAX_STATE_DIGEST_LENGTH} characters), on pings and acks. A prober whose own digest
   * differs knows at once, within one probe, that the two documents differ. Opaque here.
   */
  readonly state?: string;
}

/** Direct probe: "are you there?". Answered by `ack`. */
export interface PingMessage extends Envelope {
  readonly type: 'ping';
}

/** Indirect probe: "please ping `target` within `timeoutMs` and tell me". Answered by `ack` or `nack`. */
export interface PingReqMessage extends Envelope {
  readonly type: 'ping-req';
  readonly target: string;
  readonly timeoutMs: number;
}

/** Positive answer: to a `ping`, or to a `ping-req` whose target acked the helper. */
export interface AckMessage extends Envelope {
  readonly type: 'ack';
}

/** Negative answer to a `ping-req`: the helper is alive, the target did not ack it (Lifeguard). */
export interface NackMessage extends Envelope {
  readonly type: 'nack';
}

export type SwimRequest = PingMessage | PingReqMessage;
export type SwimResponse = AckMessage | NackMessage;
export type SwimMessage = SwimRequest | SwimResponse;
export type SwimMessageType = SwimMessage['type'];

/** Why an inbound message was dropped; keys of `stats().drops`. */
export type DropReason = 'too-large' | 'not-json' | 'bad-version' | 'unknown-type' | 'malformed' | 'unexpected-type';

export const DROP_REASONS: readonly DropReason[] = ['too-large', 'not-json', 'bad-version', 'unknown-type', 'malformed', 'unexpected-type'];

export type DecodeResult = { readonly ok: true; readonly message: SwimMessage } | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

/** Longest node id accepted in a message (libp2p peer ids are ~52 characters). */
export const MAX_NODE_ID_LENGTH = 256;
/** Most updates accepted in one message; senders stay far below it (byte budget). */
export const MAX_UPDATES_PER_MESSAGE = 64;
/** Longest state digest accepted (a full sha256 in hex; senders send a prefix). */
export const MAX_STATE_DIGEST_LENGTH = 64;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeMessage(message: SwimMessage): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/** Encoded size of one update inside a message's `updates` array (including its comma). */
export function encodedUpdateSize(update: WireUpdate): number {
  return encoder.encode(JSON.stringify(update)).length + 1;
}

/** Parses and validates `bytes`; never throws. */
export function decodeMessage(bytes: Uint8Array, maxBytes: number): DecodeResult {
  if (bytes.length > maxBytes) return drop('too-large', `${bytes.length} bytes > ${maxBytes}`);
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    return drop('not-json', err instanceof Error ? err.message : 'unparseable');
  }
  if (!isRecord(value)) return drop('malformed', 'not an object');
  if (value['v'] !== SWIM_WIRE_VERSION) return drop('bad-version', `v=${JSON.stringify(value['v']) ?? 'undefined'}`);
  const type = value['type'];
  if (type !== 'ping' && type !== 'ping-req' && type !== 'ack' && type !== 'nack') {
    return drop('unknown-type', `type=${String(JSON.stringify(type))}`);
  }
  const inc = value['inc'];
  if (!isIncarnation(inc)) return drop('malformed', 'inc must be a non-negative safe integer');
  const rawUpdates = value['updates'];
  if (!Array.isArray(rawUpdates)) return drop('malformed', 'updates must be an array');
  if (rawUpdates.length > MAX_UPDATES_PER_MESSAGE) return drop('malformed', `${rawUpdates.length} updates > ${MAX_UPDATES_PER_MESSAGE}`);
  const updates: WireUpdate[] = [];
  for (const [i, raw] of rawUpdates.entries()) {
    const update = parseUpdate(raw);
    if (update === undefined) return drop('malformed', `updates[${i}] is not {node, status, incarnation, from}`);
    updates.push(update);
  }
  const state = value['state'];
  if (state !== undefined && !isStateDigest(state)) return drop('malformed', `state must be 1-${MAX_STATE_DIGEST_LENGTH} lowercase hex characters`);
  const withState = state === undefined ? {} : { state };
  if (type === 'ping-req') {
    const target = value['target'];
    const timeoutMs = value['timeoutMs'];
    if (!isNodeId(target)) return drop('malformed', 'ping-req target must be a node id');
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) return drop('malformed', 'ping-req timeoutMs must be a positive number');
    return { ok: true, message: { v: SWIM_WIRE_VERSION, type, inc, updates, target, timeoutMs, ...withState } };
  }
  return { ok: true, message: { v: SWIM_WIRE_VERSION, type, inc, updates, ...withState } };
}

function isStateDigest(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_STATE_DIGEST_LENGTH && /^[0-9a-f]+$/.test(value);
}

function parseUpdate(raw: unknown): WireUpdate | undefined {
  if (!isRecord(raw)) return undefined;
  const { node, status, incarnation, from } = raw;
  if (!isNodeId(node) || !isMemberStatus(status) || !isIncarnation(incarnation) || !isNodeId(from)) return undefined;
  return { node, status, incarnation, from };
}

function drop(reason: DropReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NODE_ID_LENGTH;
}

function isIncarnation(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
