/** `pace keygen`: creates an operator ed25519 key pair for signing policies. */
import type { Command } from 'commander';
import { writeKeyPair } from '../../signing/key-files.js';
import { formatPublicKeyLine, generateOperatorKey, KeyFormatError } from '../../signing/operator-key.js';
import { CliError, ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';

/** What `keygen --json` prints. */
export interface KeygenJson {
  keyId: string;
  publicKey: string;
  privateKeyFile: string;
  publicKeyFile: string;
}

export function registerKeygenCommand(program: Command, out: Output): void {
  program
    .command('keygen')
    .description('create an operator ed25519 key pair for signing policies (NAME.key, mode 0600, and NAME.pub)')
    .requiredOption('--out <dir>', 'directory for the key files (created with mode 0700 if missing)')
    .option('--name <name>', 'base name of the key files', 'operator')
    .option('--comment <text>', 'comment written after the public key (e.g. who owns it)', '')
    .option('--force', 'replace existing key files')
    .option('--json', 'print JSON instead of text')
    .addHelpText(
      'after',
      '\nPut the printed public key line into every agent\'s config (trustedKeys), or point\ntrustedKeys at the .pub file. Keep the .key file secret.\n\nExit codes: 0 ok, 2 key files exist (without --force) or cannot be written.',
    )
    .action(async (opts: { out: string; name: string; comment: string; force?: boolean; json?: boolean }) => {
      const key = generateOperatorKey(opts.comment.trim());
      let paths;
      try {
        paths = await writeKeyPair(opts.out, opts.name, key, { force: opts.force === true });
      } catch (err) {
        if (err instanceof KeyFormatError) throw new CliError(ExitCode.usage, err.message);
        const e = err as NodeJS.ErrnoException;
        if (typeof e.code === 'string') throw new CliError(ExitCode.usage, `cannot write keys to ${opts.out}: ${e.message}`);
        throw err;
      }
      const line = formatPublicKeyLine(key.publicKey);
      if (opts.json) {
        const json: KeygenJson = { keyId: key.keyId, publicKey: line, ...paths };
        out.stdout(JSON.stringify(json, null, 2));
        return;
      }
      out.stdout(`key id:      ${key.keyId}`);
      out.stdout(`private key: ${paths.privateKeyFile} (keep it secret)`);
      out.stdout(`public key:  ${paths.publicKeyFile}`);
      out.stdout('\nTrust it on every agent by adding this line to trustedKeys:');
      out.stdout(line);
    });
}
