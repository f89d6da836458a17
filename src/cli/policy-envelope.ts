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

/**
 * SIGNING SEAM — signs the policy YAML in `policyFile` with the operator private key in
 * `keyFile` and returns the envelope to send.
 *
 * Signing (`signPolicy(yamlText, privateKey, file)` in `src/signing/signed-policy.ts`, and
 * `readPrivateKeyFile` in `src/signing/key-files.ts`) lands from the `signing` branch. Until
 * then this refuses with a usage error. When it lands, the body becomes:
 *
 * ```ts
 * const key = await readPrivateKeyFile(keyFile);            // KeyFormatError → ExitCode.usage
 * const signed = signPolicy(await readFile(policyFile, 'utf8'), key, policyFile);
 * if (!signed.ok) throw new CliError(ExitCode.policyInvalid, `invalid policy ${policyFile} (not signed):`,
 *   (signed.reason.diagnostics ?? []).map(formatDiagnostic));
 * return signed.envelope;
 * ```
 */
export function signPolicyFile(policyFile: string, keyFile: string): Promise<unknown> {
  return Promise.reject(
    new CliError(
      ExitCode.usage,
      `cannot sign ${policyFile} with ${keyFile}: this build of pace cannot sign policies yet; sign the policy into an envelope file and run \`pace policy apply --signed ENVELOPE.json\``,
    ),
  );
}
