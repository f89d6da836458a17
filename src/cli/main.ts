// Placeholder until the policy commands land (issue 2).
export async function main(_argv: string[]): Promise<void> {
  await Promise.resolve();
  process.exitCode = 0;
}
