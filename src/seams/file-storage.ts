import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { assertStorageName, type Storage } from './storage.js';
import { assertNotTempName, TEMP_NAME } from './storage-temp-names.js';

/** Directory mode: only the daemon's user may list or enter it (it holds the node key). */
const DIR_MODE = 0o700;
/** File mode: only the daemon's user may read the stored blobs. */
const FILE_MODE = 0o600;

/** Process-wide, so two FileStorage instances on one directory never pick the same temp name. */
let tempCounter = 0;

/**
 * A {@link Storage} that keeps each name as one file in a directory.
 *
 * `write` is atomic and durable: the bytes go to `<name>.tmp-<pid>-<counter>` in the same
 * directory, the file is fsynced, renamed over `<name>`, and the directory is fsynced, so
 * after a crash the name holds either the old or the new bytes. The directory (mode 0700) is
 * created on first use, when temp files left by a crashed writer (a pid that is no longer
 * running) are deleted. Files are created with mode 0600.
 *
 * Names in the temp-file namespace (`*.tmp-<digits>-<digits>`) are rejected. `rename` of a
 * missing name rejects with the `ENOENT` error from the file system.
 *
 * Concurrency contract: safe for concurrent calls; concurrent writes to one name leave one of
 * them whole (the last rename wins).
 */
export class FileStorage implements Storage {
  readonly dir: string;
  #ready: Promise<void> | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    checkName(name);
    await this.#init();
    try {
      const buf = await readFile(join(this.dir, name));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  async write(name: string, data: Uint8Array): Promise<void> {
    checkName(name);
    await this.#init();
    const target = join(this.dir, name);
    const temp = join(this.dir, `${name}.tmp-${process.pid}-${tempCounter++}`);
    try {
      const file = await open(temp, 'wx', FILE_MODE);
      try {
        await file.writeFile(data);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, target);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    await this.#syncDir();
  }

  async remove(name: string): Promise<void> {
    checkName(name);
    await this.#init();
    try {
      await unlink(join(this.dir, name));
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return;
      throw err;
    }
    await this.#syncDir();
  }

  async rename(name: string, newName: string): Promise<void> {
    checkName(name);
    checkName(newName);
    await this.#init();
    await rename(join(this.dir, name), join(this.dir, newName));
    await this.#syncDir();
  }

  async list(): Promise<string[]> {
    await this.#init();
    const entries = await readdir(this.dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && isStorableName(e.name))
      .map((e) => e.name)
      .sort();
  }

  /** Creates the directory and removes stray temp files, once per instance. */
  #init(): Promise<void> {
    this.#ready ??= this.#prepare().catch((err: unknown) => {
      this.#ready = undefined; // let a later call retry (e.g. after a full disk cleared)
      throw err;
    });
    return this.#ready;
  }

  async #prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: DIR_MODE });
    for (const entry of await readdir(this.dir)) {
      const pid = TEMP_NAME.exec(entry)?.[1];
      if (pid === undefined || isRunning(Number(pid))) continue;
      await unlink(join(this.dir, entry)).catch((err: unknown) => {
        if (errorCode(err) !== 'ENOENT') throw err;
      });
    }
  }

  /** Makes the directory entry changes (rename, unlink) durable. */
  async #syncDir(): Promise<void> {
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

function checkName(name: string): void {
  assertStorageName(name);
  assertNotTempName(name);
}

function isStorableName(name: string): boolean {
  try {
    checkName(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a process with this pid exists. Our own pid counts as running: another instance in
 * this process may be mid-write. A reused pid only means a stray file survives until next time.
 */
function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) !== 'ESRCH';
  }
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
