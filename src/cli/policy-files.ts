/**
 * The files `pace policy check|plan|explain` read: a policy YAML and a members file. Reading is
 * here, at the edge; checking them is the policy layer's (pure: text in, result out).
 */
import { readFile } from 'node:fs/promises';
import { loadPolicy, type LoadResult } from '../policy/load.js';
import { MembersFileError, parseMembers } from '../policy/members-file.js';
import type { MemberView } from '../policy/types.js';

/** Reads and checks a policy file. An unreadable file is a diagnostic, not an exception. */
export async function loadPolicyFile(path: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    return { ok: false, diagnostics: [{ file: path, line: 0, col: 0, message: `cannot read policy: ${why}` }] };
  }
  return loadPolicy(text, path);
}

/** Reads and checks a members file. @throws MembersFileError naming every problem, an unreadable file included. */
export async function readMembersFile(path: string): Promise<MemberView[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MembersFileError(path, [code === 'ENOENT' ? 'no such file' : `cannot read: ${(err as Error).message}`]);
  }
  return parseMembers(text, path);
}
