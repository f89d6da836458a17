/**
 * `pace policy show|apply`: the running node's active policy, and pushing a signed policy into
 * it (thin clients of `GET` and `POST /v1/policy`).
 */
import type { Command } from 'commander';
import type { ApplyPolicyResult } from '../../api/node-control.js';
import { addDaemonOptions, withDaemon, type DaemonOptions } from '../daemon-client.js';
import { CliError, ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { readEnvelopeFile, signPolicyFile } from '../policy-envelope.js';

/** What `policy show --json` prints: the active policy, or `null` when none is active. */
export type PolicyShowJson = { name: string; version: number; signer: string; yaml: string } | null;

/** What `policy apply --json` prints: the node's verdict. */
export type PolicyApplyJson = ApplyPolicyResult;

export function registerPolicyDaemonCommands(policy: Command, out: Output): void {
  addDaemonOptions(
    policy
      .command('show')
      .description("print the running node's active policy (YAML, after a `# NAME vVERSION` comment)")
      .option('--json', 'print JSON ({name, version, signer, yaml}, or null) instead of YAML'),
  ).action(async (opts: DaemonOptions & { json?: boolean }) => {
    const active = await withDaemon(opts, (client) => client.policy());
    if (opts.json) {
      out.stdout(JSON.stringify(active satisfies PolicyShowJson, null, 2));
    } else if (active === null) {
      out.stdout('# no active policy');
    } else {
      out.stdout(`# ${active.name} v${active.version}, signed by ${active.signer}`);
      out.stdout(active.yaml.trimEnd());
    }
  });

  addDaemonOptions(
    policy
      .command('apply')
      .description('push a signed policy into the running node, which gossips it to every node')
      .argument('[file]', 'policy YAML file to sign with --key')
      .option('--key <keyfile>', 'operator private key to sign FILE with')
      .option('--signed <envelope>', 'an already-signed policy envelope (JSON) to send as is')
      .option('--json', 'print the verdict as JSON'),
    '5 the policy is invalid or the node rejected it (code and reason printed)',
  ).action(async (file: string | undefined, opts: DaemonOptions & { key?: string; signed?: string; json?: boolean }) => {
      const envelope = await envelopeFrom(file, opts);
      const result = await withDaemon(opts, (client) => client.applyPolicy(envelope));
      if (opts.json) out.stdout(JSON.stringify(result satisfies PolicyApplyJson, null, 2));
      if (!result.accepted) {
        throw new CliError(ExitCode.policyInvalid, opts.json ? '' : `policy rejected by the node: ${result.code}: ${result.reason}`);
      }
      if (!opts.json) out.stdout(`applied ${result.name} v${result.version}; the node gossips it to the cluster`);
    });
}

/** The envelope to send: `--signed FILE`, or `FILE --key KEYFILE` signed here. */
async function envelopeFrom(file: string | undefined, opts: { key?: string; signed?: string }): Promise<unknown> {
  if (opts.signed !== undefined) {
    if (file !== undefined || opts.key !== undefined) throw new CliError(ExitCode.usage, 'give either --signed ENVELOPE or FILE --key KEYFILE, not both');
    return readEnvelopeFile(opts.signed);
  }
  if (file === undefined || opts.key === undefined) throw new CliError(ExitCode.usage, 'give FILE --key KEYFILE (sign and apply) or --signed ENVELOPE (apply a signed envelope)');
  return signPolicyFile(file, opts.key);
}
