/**
 * Writing one file so that a crash leaves either the old bytes or the new bytes: the data goes
 * to a temp file in the same directory, which is fsynced, then renamed (or, with
 * `overwrite: false`, hard-linked) over the target, and the directory is fsynced.
 *
 * This is for files a user names (key files, envelopes); the daemon's own state goes through
 * the Storage seam (src/seams/file-storage.ts), which works the same way.
 */
import { link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Process-wide, so two writes in one process never pick the same temp name. */
let tempCounter = 0;

export interface AtomicWriteOptions {
  /** File mode of a newly created file. @default 0o644 */
  mode?: number;
  /**
   * Replace an existing file. With `false` the write fails with the file system's `EEXIST`
   * error when the target exists (checked atomically by `link`, not by a racy stat).
   * @default true
   */
  overwrite?: boolean;
}

/** Atomically and durably writes `data` to `path`. Rejects with the file system's error. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.tmp-${process.pid}-${tempCounter++}`);
  try {
    const file = await open(temp, 'wx', options.mode ?? 0o644);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    if (options.overwrite === false) {
      await link(temp, path);
      await unlink(temp);
    } else {
      await rename(temp, path);
    }
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
