/**
 * Length-prefixed framing for request/response streams: each frame is an unsigned LEB128
 * varint byte length followed by that many payload bytes (the libp2p convention).
 *
 * The decoder is pure and size-capped: it rejects a declared length above its limit as soon as
 * the prefix is read, before buffering the payload, so a peer cannot make the node allocate
 * more than `maxFrameBytes` (+ one chunk) per stream.
 */
import { FrameTooLargeError, MalformedFrameError } from './errors.js';

/** A varint longer than this many bytes cannot describe a length below 2^35; reject it. */
const MAX_VARINT_BYTES = 5;

/** Encodes `payload` as one frame. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const prefix: number[] = [];
  let n = payload.byteLength;
  while (n >= 0x80) {
    prefix.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  prefix.push(n);
  const out = new Uint8Array(prefix.length + payload.byteLength);
  out.set(prefix, 0);
  out.set(payload, prefix.length);
  return out;
}

/**
 * Incremental decoder for a sequence of frames.
 * `push` returns every frame completed by `chunk`; it throws FrameTooLargeError or
 * MalformedFrameError on bad input, after which the decoder must not be used again.
 */
export class FrameDecoder {
  private buffer: Uint8Array = new Uint8Array(0);

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes received but not yet part of a complete frame. */
  get pendingBytes(): number {
    return this.buffer.byteLength;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    this.buffer = concat(this.buffer, chunk);
    const frames: Uint8Array[] = [];
    for (;;) {
      const header = readVarint(this.buffer);
      if (header === undefined) break;
      if (header.value > this.maxFrameBytes) throw new FrameTooLargeError(header.value, this.maxFrameBytes);
      const end = header.length + header.value;
      if (this.buffer.byteLength < end) break;
      frames.push(this.buffer.slice(header.length, end));
      this.buffer = this.buffer.subarray(end);
    }
    return frames;
  }
}

/** Reads a varint at the start of `buf`; undefined when more bytes are needed. */
function readVarint(buf: Uint8Array): { value: number; length: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < buf.byteLength; i++) {
    if (i >= MAX_VARINT_BYTES) throw new MalformedFrameError(`length prefix longer than ${MAX_VARINT_BYTES} bytes`);
    const byte = buf[i] as number;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) {
      if (i > 0 && byte === 0) throw new MalformedFrameError('length prefix is not minimally encoded');
      return { value, length: i + 1 };
    }
  }
  if (buf.byteLength >= MAX_VARINT_BYTES) throw new MalformedFrameError(`length prefix longer than ${MAX_VARINT_BYTES} bytes`);
  return undefined;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b;
  if (b.byteLength === 0) return a;
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
