/**
 * Wire format of one request/response exchange on a PACE request protocol stream.
 *
 *  1. The requester opens a stream, writes ONE frame (see framing.ts) holding the request
 *     bytes, and closes its write side.
 *  2. The responder reads exactly one frame, runs the handler, writes ONE frame holding a
 *     response envelope, and closes. Anything after the first frame is garbage.
 *
 * Response envelope: one status byte, then a body.
 *  - `0x00 ok`       body = the handler's response bytes.
 *  - `0x01 error`    body = UTF-8 reason (the handler threw; capped at MAX_REASON_BYTES).
 *  - `0x02 rejected` body = UTF-8 reason (the request was refused before any handler ran:
 *                    too large, malformed, or the response would be too large).
 */
export type ResponseEnvelope =
  | { type: 'ok'; body: Uint8Array }
  | { type: 'error'; reason: string }
  | { type: 'rejected'; reason: string };

const STATUS_OK = 0x00;
const STATUS_ERROR = 0x01;
const STATUS_REJECTED = 0x02;
/** A reason string is cut to this many bytes so an error cannot inflate a response. */
export const MAX_REASON_BYTES = 1024;
/** Bytes the envelope adds to the response body. */
export const ENVELOPE_OVERHEAD = 1;

export function encodeResponse(envelope: ResponseEnvelope): Uint8Array {
  if (envelope.type === 'ok') {
    const out = new Uint8Array(1 + envelope.body.byteLength);
    out[0] = STATUS_OK;
    out.set(envelope.body, 1);
    return out;
  }
  const reason = new TextEncoder().encode(envelope.reason).subarray(0, MAX_REASON_BYTES);
  const out = new Uint8Array(1 + reason.byteLength);
  out[0] = envelope.type === 'error' ? STATUS_ERROR : STATUS_REJECTED;
  out.set(reason, 1);
  return out;
}

/** Decodes a response envelope; undefined when the status byte is unknown or missing. */
export function decodeResponse(bytes: Uint8Array): ResponseEnvelope | undefined {
  const status = bytes[0];
  const body = bytes.subarray(1);
  switch (status) {
    case STATUS_OK:
      return { type: 'ok', body: body.slice() };
    case STATUS_ERROR:
      return { type: 'error', reason: new TextDecoder().decode(body) };
    case STATUS_REJECTED:
      return { type: 'rejected', reason: new TextDecoder().decode(body) };
    default:
      return undefined;
  }
}
