/**
 * Names FileStorage reserves for its in-flight temp files: `<name>.tmp-<pid>-<counter>`.
 *
 * Both Storage implementations refuse to store such a name, so code tested against
 * MemoryStorage cannot pick a name that FileStorage would hide from `list` or delete as a
 * stray temp file.
 */
import { StorageNameError } from './storage.js';

/** Matches a temp file name and captures the writer's pid. */
export const TEMP_NAME = /\.tmp-(\d+)-\d+$/;

/** Throws {@link StorageNameError} for a name in the temp-file namespace. */
export function assertNotTempName(name: string): void {
  if (TEMP_NAME.test(name)) throw new StorageNameError(name);
}
