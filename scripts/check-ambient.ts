/**
 * Fails the build when code under `src/` reads ambient time or randomness instead of the
 * injected Clock/Random seams (DESIGN.md, "Seams"), or schedules work outside them
 * (timers, `process.nextTick`). Only the real adapters may.
 *
 * Uses the TypeScript parser, so comments, strings and `new Date(x)` never trigger it.
 * Run from the repository root: `node dist/scripts/check-ambient.js`; exit 0 and
 * `ok: N files checked`, or exit 1 and one `FILE:LINE:COL: …` line per finding.
 */
import '../src/shim/index.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

/** The seam adapters allowed to touch ambient time and randomness (paths from the repo root). */
export const AMBIENT_ALLOWLIST: readonly string[] = ['src/seams/system-clock.ts', 'src/seams/system-random.ts'];

export interface Finding {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** What was used, e.g. `Date.now`, `new Date()`, `crypto.randomBytes`. */
  what: string;
}

const TIMER_FUNCTIONS = new Set(['setTimeout', 'setInterval', 'setImmediate']);
const CRYPTO_RANDOM = new Set(['randomBytes', 'randomUUID', 'randomInt', 'getRandomValues', 'randomFillSync', 'randomFill']);
const GLOBAL_OBJECTS = new Set(['globalThis', 'global', 'window', 'self']);
const TIMERS_MODULES = new Set(['timers', 'node:timers', 'timers/promises', 'node:timers/promises']);
const CRYPTO_MODULES = new Set(['crypto', 'node:crypto']);
const PERF_MODULES = new Set(['perf_hooks', 'node:perf_hooks']);
const PROCESS_MODULES = new Set(['process', 'node:process']);

/** Formats a finding as `FILE:LINE:COL: ambient X is not allowed …`. */
export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}:${f.column}: ambient ${f.what} is not allowed outside the seam adapters (use the injected Clock/Random)`;
}

/** Every ambient time/randomness use in one file's source text. Pure: reads nothing else. */
export function findAmbientUses(fileName: string, sourceText: string): Finding[] {
  const source = ts.createSourceFile(fileName, sourceText, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const findings: Finding[] = [];
  /** Local names bound to a crypto module namespace (plus the Web Crypto global `crypto`). */
  const cryptoNamespaces = new Set(['crypto']);
  /** Local name -> the crypto function it was imported as. */
  const cryptoFunctions = new Map<string, string>();
  /** Local names bound to perf_hooks' `performance` (plus the global `performance`). */
  const performanceNames = new Set(['performance']);

  const report = (node: ts.Node, what: string): void => {
    const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source));
    findings.push({ file: fileName, line: line + 1, column: character + 1, what });
  };

  // Imports first, so uses above an import (legal in JS) are still recognised.
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const from = statement.moduleSpecifier.text;
    const clause = statement.importClause;
    if (clause?.isTypeOnly === true) continue;
    if (TIMERS_MODULES.has(from)) {
      report(statement, `import from '${from}'`);
      continue;
    }
    if (clause === undefined) continue;
    const bindings = clause.namedBindings;
    if (PROCESS_MODULES.has(from) && bindings !== undefined && ts.isNamedImports(bindings)) {
      for (const el of bindings.elements) if (!el.isTypeOnly && (el.propertyName ?? el.name).text === 'nextTick') report(el, `nextTick (from '${from}')`);
    }
    if (CRYPTO_MODULES.has(from)) {
      if (clause.name !== undefined) cryptoNamespaces.add(clause.name.text);
      if (bindings !== undefined && ts.isNamespaceImport(bindings)) cryptoNamespaces.add(bindings.name.text);
      if (bindings !== undefined && ts.isNamedImports(bindings)) {
        for (const el of bindings.elements) {
          const imported = (el.propertyName ?? el.name).text;
          if (el.isTypeOnly) continue;
          if (CRYPTO_RANDOM.has(imported)) cryptoFunctions.set(el.name.text, imported);
          if (imported === 'webcrypto') cryptoNamespaces.add(el.name.text);
        }
      }
    }
    if (PERF_MODULES.has(from) && bindings !== undefined && ts.isNamedImports(bindings)) {
      for (const el of bindings.elements) {
        if ((el.propertyName ?? el.name).text === 'performance') performanceNames.add(el.name.text);
      }
    }
  }

  /** `X` or `globalThis.X` (also `global`, `window`, `self`). */
  const isGlobal = (expr: ts.Expression, names: ReadonlySet<string>): boolean => {
    if (ts.isIdentifier(expr)) return names.has(expr.text);
    return (
      ts.isPropertyAccessExpression(expr) &&
      ts.isIdentifier(expr.expression) &&
      GLOBAL_OBJECTS.has(expr.expression.text) &&
      names.has(expr.name.text)
    );
  };
  const DATE = new Set(['Date']);
  const PROCESS = new Set(['process']);
  const MATH = new Set(['Math']);
  const isCryptoObject = (expr: ts.Expression): boolean =>
    isGlobal(expr, cryptoNamespaces) ||
    (ts.isPropertyAccessExpression(expr) && expr.name.text === 'webcrypto' && isGlobal(expr.expression, cryptoNamespaces));

  /** `obj.name` or `obj['name']`: the member name, else undefined. */
  const memberName = (node: ts.Node): { object: ts.Expression; name: string } | undefined => {
    if (ts.isPropertyAccessExpression(node)) return { object: node.expression, name: node.name.text };
    if (ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression)) {
      return { object: node.expression, name: node.argumentExpression.text };
    }
    return undefined;
  };

  const visit = (node: ts.Node): void => {
    if (ts.isTypeNode(node) || ts.isImportDeclaration(node)) return; // types do not run
    const member = memberName(node);
    if (member !== undefined) {
      const { object, name } = member;
      if (name === 'now' && isGlobal(object, DATE)) report(node, 'Date.now');
      else if (name === 'random' && isGlobal(object, MATH)) report(node, 'Math.random');
      else if (name === 'now' && isGlobal(object, performanceNames)) report(node, 'performance.now');
      else if (TIMER_FUNCTIONS.has(name) && isGlobal(object, GLOBAL_OBJECTS)) report(node, name);
      // A tick of its own would run between the simulator's drain and its next event (scheduler.ts).
      else if (name === 'nextTick' && isGlobal(object, PROCESS)) report(node, 'process.nextTick');
      else if (CRYPTO_RANDOM.has(name) && isCryptoObject(object)) report(node, `crypto.${name}`);
    } else if (ts.isNewExpression(node) && isGlobal(node.expression, DATE) && (node.arguments?.length ?? 0) === 0) {
      report(node, 'new Date()');
    } else if (ts.isCallExpression(node) && isGlobal(node.expression, DATE)) {
      report(node, 'Date()');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg !== undefined && ts.isStringLiteralLike(arg) && TIMERS_MODULES.has(arg.text)) report(node, `import('${arg.text}')`);
    } else if (ts.isIdentifier(node) && isValueReference(node)) {
      if (TIMER_FUNCTIONS.has(node.text)) report(node, node.text);
      const imported = cryptoFunctions.get(node.text);
      if (imported !== undefined) report(node, `${imported} (from node:crypto)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return findings.sort((a, b) => a.line - b.line || a.column - b.column);
}

/**
 * Whether `id` reads a variable, rather than naming a property, a declaration or a label.
 * (`clock.setTimeout`, `{ setTimeout: 1 }` and `function setTimeout() {}` are not uses of the
 * global; the shorthand `{ setTimeout }` is.)
 */
function isValueReference(id: ts.Identifier): boolean {
  const parent = id.parent;
  if (ts.isShorthandPropertyAssignment(parent)) return true;
  if ('name' in parent && parent.name === id) return false; // declarations, `a.name`, `import.meta`
  if ('propertyName' in parent && parent.propertyName === id) return false; // `{ a: b }` patterns, `import { a as b }`
  if (ts.isQualifiedName(parent) && parent.right === id) return false;
  if (ts.isLabeledStatement(parent) || ts.isBreakOrContinueStatement(parent)) return false;
  return true;
}

/** Paths (relative to `rootDir`, with `/`) of every `.ts` file under `rootDir/src`, sorted. */
export function sourceFiles(rootDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.ts')) out.push(relative(rootDir, path).split(sep).join('/'));
    }
  };
  walk(join(rootDir, 'src'));
  return out.sort();
}

/** Checks every non-allowlisted `.ts` file under `rootDir/src`. */
export function checkTree(rootDir: string): { files: number; findings: Finding[] } {
  const files = sourceFiles(rootDir).filter((f) => !AMBIENT_ALLOWLIST.includes(f));
  const findings = files.flatMap((f) => findAmbientUses(f, readFileSync(join(rootDir, f), 'utf8')));
  return { files: files.length, findings };
}

function main(): void {
  const { files, findings } = checkTree(process.cwd());
  if (findings.length > 0) {
    for (const f of findings) console.error(formatFinding(f));
    process.exitCode = 1;
    return;
  }
  console.log(`ok: ${files} files checked`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
