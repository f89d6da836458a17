/**
 * Replaces one benchmark's section of a Markdown file, delimited by
 * `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->`, so several benchmarks can own
 * separate sections of docs/BENCHMARKS.md. A missing file gets a title; a missing section is
 * appended; everything outside the markers is kept byte for byte.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export function writeSection(file: string, name: string, body: string): void {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${body.trimEnd()}\n${end}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nFigures written by the benchmark scripts; each owns the section between its markers.\n';
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from >= 0 && to > from ? current.slice(0, from) + block + current.slice(to + end.length) : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}
