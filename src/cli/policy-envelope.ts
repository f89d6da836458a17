/**
 * Where `pace policy apply` gets the signed envelope it sends: an envelope file signed
 * beforehand (`--signed`), or a policy YAML signed here with an operator key (`FILE --key`).
 */
import { readFile } from 'node:fs/promises';
import { errorCode, errorMessage } from '../util/error-code.js';
import { CliError, ExitCode } from './exit-codes.js';

/**
 * The envelope in a signed-envelope JSON file. Exit 2 when the file cannot be read, 5 when it
 * is not JSON (the node checks everything else and says why it rejects).
 */
export async function readEnvelopeFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(ExitCode.usage, `cannot read ${file}: ${errorCode(err) === 'ENOENT' ? 'no such file' : errorMessage(err)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(ExitCode.policyInvalid, `rejected ${file}: malformed: not a signed policy envelope (not JSON: ${errorMessage(err)})`);
  }
}

export { signPolicyFile } from './commands/policy-signing.js';
