/** `pace policy sign|verify`: offline signing and verification of policy envelopes. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { readPrivateKeyFile, readPublicKeyFile } from '../../signing/key-files.js';
import { KeyFormatError, type OperatorPublicKey } from '../../signing/operator-key.js';
import { formatRejection, parseEnvelopeJson, signPolicy, verifyPolicyEnvelope } from '../../signing/signed-policy.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { formatDiagnostic } from '../../util/source-position.js';
import { CliError, ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';

/** What `policy verify --json` prints. */
export interface VerifyJson {
  ok: boolean;
  name?: string;
  version?: number;
  signer?: string;
  code?: string;
  reason?: string;
}

export function registerPolicySigningCommands(policy: Command, out: Output): void {
  policy
    .command('sign')
    .description('validate a policy and sign it with an operator key; prints the signed envelope (JSON)')
    .argument('<file>', 'policy YAML file')
    .requiredOption('--key <keyfile>', 'operator private key (NAME.key from pace keygen)')
    .option('--out <file>', 'write the envelope to FILE instead of stdout')
    .addHelpText('after', '\nExit codes: 0 signed, 2 bad key file or cannot write --out, 5 invalid policy (nothing is signed).')
    .action(async (file: string, opts: { key: string; out?: string }) => {
      const key = await keyOrFail(() => readPrivateKeyFile(opts.key));
      const yaml = await readPolicyText(file);
      const signed = signPolicy(yaml, key, file);
      if (!signed.ok) {
        throw new CliError(ExitCode.policyInvalid, `invalid policy ${file} (not signed):`, (signed.reason.diagnostics ?? []).map(formatDiagnostic));
      }
      const text = `${JSON.stringify(signed.envelope, null, 2)}\n`;
      if (opts.out === undefined) {
        out.stdout(text.trimEnd());
        return;
      }
      try {
        await writeFileAtomic(opts.out, text);
      } catch (err) {
        throw new CliError(ExitCode.usage, `cannot write ${opts.out}: ${(err as Error).message}`);
      }
      const e = signed.envelope;
      out.stdout(`wrote ${opts.out}: ${e.name} v${e.version} signed by ${e.signer}`);
    });

  policy
    .command('verify')
    .description('check a signed policy envelope against trusted operator public keys')
    .argument('<envelope>', 'envelope JSON file (from pace policy sign)')
    .requiredOption('--trusted <pubfile...>', 'trusted public key files (NAME.pub; one or more key lines each)')
    .option('--json', 'print JSON instead of text')
    .addHelpText('after', '\nExit codes: 0 valid, 2 unreadable envelope or key file, 5 rejected (the reason is printed).')
    .action(async (envelopeFile: string, opts: { trusted: string[]; json?: boolean }) => {
      const trusted: OperatorPublicKey[] = [];
      for (const file of opts.trusted) trusted.push(...(await keyOrFail(() => readPublicKeyFile(file))));
      let text: string;
      try {
        text = await readFile(envelopeFile, 'utf8');
      } catch (err) {
        throw new CliError(ExitCode.usage, `cannot read ${envelopeFile}: ${readError(err)}`);
      }
      const parsed = parseEnvelopeJson(text);
      const result = parsed.ok ? verifyPolicyEnvelope(parsed.value, trusted) : parsed;
      if (result.ok) {
        const e = result.envelope;
        if (opts.json) out.stdout(JSON.stringify({ ok: true, name: e.name, version: e.version, signer: e.signer } satisfies VerifyJson, null, 2));
        else out.stdout(`${envelopeFile}: ok (${e.name} v${e.version}, signed by ${e.signer})`);
        return;
      }
      if (opts.json) {
        out.stdout(JSON.stringify({ ok: false, code: result.reason.code, reason: result.reason.message } satisfies VerifyJson, null, 2));
        throw new CliError(ExitCode.policyInvalid, '');
      }
      throw new CliError(ExitCode.policyInvalid, `rejected ${envelopeFile}: ${formatRejection(result.reason)}`, (result.reason.diagnostics ?? []).map(formatDiagnostic));
    });
}

/** The policy text; an unreadable policy is exit 5, as in `pace policy check`. */
async function readPolicyText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(ExitCode.policyInvalid, `${file}: cannot read policy: ${readError(err)}`);
  }
}

/** Runs a key read; a bad key file ends the command with exit 2 and the file's problem. */
async function keyOrFail<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof KeyFormatError) throw new CliError(ExitCode.usage, err.message);
    throw err;
  }
}

function readError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
}
