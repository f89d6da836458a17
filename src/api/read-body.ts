/** Reading a request body as JSON, with a size cap (server side of the control API). */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';

/**
 * The request body parsed as JSON.
 *
 * Rejects with an {@link HttpError}: 413 `payload-too-large` when more than `maxBytes` arrive,
 * 400 `bad-request` when the body is empty or not JSON (the parser's message says where).
 * An oversized body is read to its end and discarded (never held in memory), so the client
 * receives the 413 instead of a reset connection; the server's request timeout bounds how long
 * that may take.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
  }
  if (size > maxBytes) throw new HttpError(413, 'payload-too-large', `request body is ${size} bytes; the limit is ${maxBytes}`);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'bad-request', 'request body is empty; expected JSON');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, 'bad-request', `request body is not JSON: ${(err as Error).message}`);
  }
}
