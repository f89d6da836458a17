/**
 * Reading and writing single frames on a libp2p 3 stream (a MessageStream: async-iterable
 * chunks, `send` + `onDrain` for back-pressure, `close` to half-close the write side).
 */
import type { Stream } from '@libp2p/interface';
import { MalformedFrameError } from './errors.js';
import { encodeFrame, FrameDecoder } from './framing.js';

/**
 * Reads exactly one frame of at most `maxFrameBytes` payload bytes.
 * Bytes after the frame in the same read are garbage and rejected. The stream is not closed.
 * @throws FrameTooLargeError | MalformedFrameError | the signal's reason | a stream error
 */
export async function readOneFrame(stream: Stream, maxFrameBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  signal.throwIfAborted();
  const decoder = new FrameDecoder(maxFrameBytes);
  const iterator = stream[Symbol.asyncIterator]();
  let received = 0;
  const aborted = new Promise<never>((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  aborted.catch(() => {});
  for (;;) {
    const next = await Promise.race([iterator.next(), aborted]);
    if (next.done === true) {
      throw new MalformedFrameError(`stream ended after ${received} bytes, before a complete frame`);
    }
    const chunk = next.value instanceof Uint8Array ? next.value : next.value.subarray();
    received += chunk.byteLength;
    const frames = decoder.push(chunk);
    const first = frames[0];
    if (first !== undefined) {
      if (frames.length > 1 || decoder.pendingBytes > 0) throw new MalformedFrameError('unexpected bytes after the frame');
      return first;
    }
  }
}

/** Writes `payload` as one frame, then closes the write side (waiting for the bytes to leave). */
export async function writeFrameAndClose(stream: Stream, payload: Uint8Array, signal: AbortSignal): Promise<void> {
  if (!stream.send(encodeFrame(payload))) await stream.onDrain({ signal });
  await stream.close({ signal });
}
