/**
 * CEL expressions over one node's facts and labels (`@bufbuild/cel`).
 *
 * The variable `node` has: `id` (string), `cpus`, `memoryMB`, `diskGB` (int), `arch` (string)
 * and `labels` (map of string to string; test a label with `has(node.labels.zone)` before
 * reading it, as reading a missing key is an error).
 *
 * @bufbuild/cel ships no public type checker, so `compileExpression` checks in two steps:
 * a walk over the parsed AST (only `node` and comprehension variables may be named; only the
 * fields above may be selected from `node`), then probe evaluations against synthetic nodes
 * that carry every label the expression names. An expression that fails on every probe has a
 * type error (e.g. `node.arch > 3`); one that returns the wrong type is rejected too.
 */
import { isCelError, parse, plan, celEnv } from '@bufbuild/cel';
import type { NodeFacts } from './facts.js';

export const NODE_FIELDS = ['id', 'cpus', 'memoryMB', 'diskGB', 'arch', 'labels'] as const;

/** What an expression must evaluate to. */
export type ExpressionKind = 'bool' | 'rank';

/** A parse or check problem, with the character offset inside the expression text. */
export interface ExpressionProblem {
  offset: number;
  message: string;
}

export interface CompiledExpression {
  readonly source: string;
  readonly kind: ExpressionKind;
  /** Runs the expression for one node. Never throws. */
  evaluate(node: CelNode): ExpressionResult;
}

export type ExpressionResult =
  | { ok: true; value: boolean | number }
  | { ok: false; error: string };

/** The `node` variable as CEL sees it. Build with {@link celNode}. */
// A type alias, not an interface: CEL's input type needs the implicit index signature.
export type CelNode = {
  id: string;
  cpus: bigint;
  memoryMB: bigint;
  diskGB: bigint;
  arch: string;
  labels: Record<string, string>;
};

export function celNode(id: string, facts: NodeFacts, labels: Readonly<Record<string, string>>): CelNode {
  return {
    id,
    cpus: BigInt(facts.cpus),
    memoryMB: BigInt(facts.memoryMB),
    diskGB: BigInt(facts.diskGB),
    arch: facts.arch,
    labels: { ...labels },
  };
}

const env = celEnv();

/** Parses and checks `source`; returns the compiled expression or the problems found. */
export function compileExpression(source: string, kind: ExpressionKind): CompiledExpression | ExpressionProblem[] {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (err) {
    return [parseProblem(err)];
  }
  const positions = parsed.sourceInfo?.positions ?? {};
  const walk = new AstChecker(positions);
  walk.visit(parsed.expr, new Set(['node']));
  if (walk.problems.length > 0) return walk.problems;

  const run = plan(env, parsed);
  const evaluate = (node: CelNode): ExpressionResult => {
    let value: unknown;
    try {
      value = run({ node });
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    if (isCelError(value)) return { ok: false, error: value.message };
    return normalize(value, kind);
  };

  const probeResults = probeNodes(walk.labelKeys).map(evaluate);
  const failures = probeResults.filter((r): r is { ok: false; error: string } => !r.ok);
  if (failures.length === probeResults.length) {
    const first = failures[0]?.error ?? 'unknown error';
    return [{ offset: 0, message: first.startsWith('must evaluate') ? first : `does not type-check: ${first}` }];
  }
  return { source, kind, evaluate };
}

function normalize(value: unknown, kind: ExpressionKind): ExpressionResult {
  if (typeof value === 'boolean') return { ok: true, value };
  if (kind === 'rank') {
    if (typeof value === 'bigint') return { ok: true, value: Number(value) };
    if (typeof value === 'number' && !Number.isNaN(value)) return { ok: true, value };
    return { ok: false, error: `must evaluate to a bool, int or double, got ${describe(value)}` };
  }
  return { ok: false, error: `must evaluate to a bool, got ${describe(value)}` };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'number') return 'double';
  if (typeof value === 'string') return 'string';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? 'map' : typeof value;
}

/** Synthetic nodes for probing: small and large facts, both common arches, every named label. */
function probeNodes(labelKeys: ReadonlySet<string>): CelNode[] {
  const labels = Object.fromEntries([...labelKeys].map((k) => [k, 'probe']));
  return [
    celNode('probe-a', { cpus: 4, memoryMB: 8192, diskGB: 64, arch: 'amd64' }, labels),
    celNode('probe-b', { cpus: 1, memoryMB: 512, diskGB: 8, arch: 'arm64' }, labels),
    celNode('probe-c', { cpus: 0, memoryMB: 0, diskGB: 0, arch: '' }, {}),
  ];
}

function parseProblem(err: unknown): ExpressionProblem {
  const e = err as { rawMessage?: unknown; location?: { start?: { offset?: unknown } }; message?: unknown };
  const offset = typeof e.location?.start?.offset === 'number' ? e.location.start.offset : 0;
  const message = typeof e.rawMessage === 'string' ? e.rawMessage : String(e.message ?? err);
  return { offset, message: `syntax error: ${message}` };
}

// The parsed AST is protobuf-es `cel.expr.Expr`; only the shapes the checker needs are typed here.
interface ExprNode {
  id: bigint;
  exprKind:
    | { case: 'constExpr'; value: unknown }
    | { case: 'identExpr'; value: { name: string } }
    | { case: 'selectExpr'; value: { operand?: ExprNode; field: string } }
    | { case: 'callExpr'; value: { target?: ExprNode; function: string; args: ExprNode[] } }
    | { case: 'listExpr'; value: { elements: ExprNode[] } }
    | { case: 'structExpr'; value: { messageName: string; entries: { value?: ExprNode; keyKind: { case: string; value?: unknown } }[] } }
    | {
        case: 'comprehensionExpr';
        value: {
          iterVar: string;
          iterVar2?: string;
          accuVar: string;
          iterRange?: ExprNode;
          accuInit?: ExprNode;
          loopCondition?: ExprNode;
          loopStep?: ExprNode;
          result?: ExprNode;
        };
      }
    | { case: undefined; value?: undefined };
}

class AstChecker {
  readonly problems: ExpressionProblem[] = [];
  /** Label keys the expression names literally (`node.labels.zone`, `node.labels['zone']`). */
  readonly labelKeys = new Set<string>();

  constructor(private readonly positions: Record<string, number>) {}

  visit(expr: unknown, scope: ReadonlySet<string>): void {
    const node = expr as ExprNode | undefined;
    if (node === undefined) return;
    const kind = node.exprKind;
    switch (kind.case) {
      case 'identExpr':
        if (!scope.has(kind.value.name)) {
          this.report(node, `unknown name '${kind.value.name}': expressions can use 'node' (fields: ${NODE_FIELDS.join(', ')})`);
        }
        return;
      case 'selectExpr': {
        const operand = kind.value.operand;
        if (operand !== undefined && isIdent(operand, 'node') && scope.has('node')) {
          if (!(NODE_FIELDS as readonly string[]).includes(kind.value.field)) {
            this.report(node, `node has no field '${kind.value.field}' (fields: ${NODE_FIELDS.join(', ')})`);
          }
          return;
        }
        if (operand !== undefined && isNodeLabels(operand)) this.labelKeys.add(kind.value.field);
        this.visit(operand, scope);
        return;
      }
      case 'callExpr': {
        const [first, second] = kind.value.args;
        if (kind.value.function === '_[_]' && first !== undefined && isNodeLabels(first) && second?.exprKind.case === 'constExpr') {
          const constant = second.exprKind.value as { constantKind?: { case?: string; value?: unknown } };
          if (constant.constantKind?.case === 'stringValue' && typeof constant.constantKind.value === 'string') {
            this.labelKeys.add(constant.constantKind.value);
          }
        }
        this.visit(kind.value.target, scope);
        for (const arg of kind.value.args) this.visit(arg, scope);
        return;
      }
      case 'listExpr':
        for (const element of kind.value.elements) this.visit(element, scope);
        return;
      case 'structExpr':
        if (kind.value.messageName !== '') {
          this.report(node, `message construction '${kind.value.messageName}{...}' is not supported`);
          return;
        }
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') this.visit(entry.keyKind.value, scope);
          this.visit(entry.value, scope);
        }
        return;
      case 'comprehensionExpr': {
        const c = kind.value;
        this.visit(c.iterRange, scope);
        this.visit(c.accuInit, scope);
        const inner = new Set([...scope, c.iterVar, c.accuVar, ...(c.iterVar2 ? [c.iterVar2] : [])]);
        this.visit(c.loopCondition, inner);
        this.visit(c.loopStep, inner);
        this.visit(c.result, new Set([...scope, c.accuVar]));
        return;
      }
      default:
        return;
    }
  }

  private report(node: ExprNode, message: string): void {
    this.problems.push({ offset: this.positions[node.id.toString()] ?? 0, message });
  }
}

function isIdent(expr: ExprNode, name: string): boolean {
  return expr.exprKind.case === 'identExpr' && expr.exprKind.value.name === name;
}

function isNodeLabels(expr: ExprNode): boolean {
  return (
    expr.exprKind.case === 'selectExpr' &&
    expr.exprKind.value.field === 'labels' &&
    expr.exprKind.value.operand !== undefined &&
    isIdent(expr.exprKind.value.operand, 'node')
  );
}
