/**
 * Waiting for conditions in real-time tests: poll until true or a generous deadline passes.
 * Tests never assert elapsed time; the deadline only turns a hang into a clear failure.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export const DEFAULT_DEADLINE_MS = 30_000;

export async function waitUntil(condition: () => boolean | Promise<boolean>, description: string, deadlineMs = DEFAULT_DEADLINE_MS): Promise<void> {
  const start = Date.now();
  for (;;) {
    if (await condition()) return;
    if (Date.now() - start > deadlineMs) throw new Error(`timed out after ${deadlineMs} ms waiting for: ${description}`);
    await sleep(25);
  }
}
