/**
 * Loading a ClusterPolicy: YAML text -> checked {@link Policy}, or diagnostics that name the
 * file, line, column and what is wrong. Loading never throws for bad input and has no side
 * effects, so a rejected policy can never replace an accepted one.
 *
 * Checks, in order: YAML syntax (one document, no duplicate keys); the JSON Schema
 * (unknown keys, types, enums, durations); what a schema cannot say (count steps in increasing
 * order, odd manager counts, no more managers than nodes, counts that never shrink as the fleet
 * grows); CEL expressions that parse, name only known fields and return the right type.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isScalar, isPair, parseDocument, type Document, type Node as YamlNode, type Scalar } from 'yaml';
import { compileExpression, type CompiledExpression, type ExpressionKind } from './cel.js';
import { parseDuration } from './duration.js';
import { policySchema } from './schema.js';
import { parseDriverSpec } from './driver-settings/index.js';
import type { CountStep, DriverName, Policy, PreferCriterion, PreferOrder } from './types.js';
import { LineIndex, type Diagnostic } from '../util/source-position.js';

export const DEFAULT_STABILIZATION = '10s';
export const DEFAULT_FAILURE_GRACE = '5s';
const MAX_POLICY_BYTES = 256 * 1024;

export type LoadResult = { ok: true; policy: Policy } | { ok: false; diagnostics: Diagnostic[] };

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
const validateSchema = ajv.compile(policySchema);

/** Checks policy text; `file` is only used to label diagnostics. */
export function loadPolicy(text: string, file: string): LoadResult {
  const lines = new LineIndex(text);
  const at = (offset: number, message: string): Diagnostic => ({ file, ...lines.position(offset), message });

  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) {
    return { ok: false, diagnostics: [{ file, line: 0, col: 0, message: `policy is larger than ${MAX_POLICY_BYTES} bytes` }] };
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true });
  if (doc.errors.length > 0) {
    return { ok: false, diagnostics: doc.errors.map((e) => at(e.pos[0], `YAML: ${firstLine(e.message)}`)) };
  }
  if (doc.contents === null) return { ok: false, diagnostics: [at(0, 'empty document: expected a ClusterPolicy')] };

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    return { ok: false, diagnostics: [at(0, `YAML: ${(err as Error).message}`)] };
  }
  const locate = new Locator(doc);
  if (!validateSchema(value)) {
    const errors = (validateSchema.errors ?? []).filter((e) => e.keyword !== 'if');
    return { ok: false, diagnostics: sortDiagnostics(errors.map((e) => at(locate.offsetOf(e), schemaMessage(e)))) };
  }
  const raw = value as RawPolicy;
  const problems: Diagnostic[] = [];
  const report = (path: Path, message: string, exprOffset?: number): void => {
    problems.push(at(exprOffset === undefined ? locate.offsetAt(path) : locate.expressionOffset(path, exprOffset), message));
  };

  checkCount(raw.spec.managers.count, report);
  const driver = parseDriverSpec(raw.spec.driver.name, raw.spec.driver.settings ?? {});
  if (Array.isArray(driver)) {
    for (const [field, message] of driver) {
      const path: Path = ['spec', 'driver', 'settings', field];
      report(path, `${pathText(path)}: ${message}`);
    }
  }
  const stabilizationMs = checkDuration(raw.spec.timing?.stabilization ?? DEFAULT_STABILIZATION, ['spec', 'timing', 'stabilization'], report);
  const failureGraceMs = checkDuration(raw.spec.timing?.failureGrace ?? DEFAULT_FAILURE_GRACE, ['spec', 'timing', 'failureGrace'], report);

  const compile = (source: string, kind: ExpressionKind, path: Path): CompiledExpression | undefined => {
    const compiled = compileExpression(source, kind);
    if (!Array.isArray(compiled)) return compiled;
    for (const problem of compiled) report(path, `${pathText(path)}: CEL ${problem.message}`, problem.offset);
    return undefined;
  };
  const eligible = compile(raw.spec.managers.eligible ?? 'true', 'bool', ['spec', 'managers', 'eligible']);
  const workerEligible = compile(raw.spec.workers?.eligible ?? 'true', 'bool', ['spec', 'workers', 'eligible']);
  const prefer: PreferCriterion[] = [];
  (raw.spec.managers.prefer ?? []).forEach((item, i) => {
    const source = typeof item === 'string' ? item : item.expr;
    const path: Path = typeof item === 'string' ? ['spec', 'managers', 'prefer', i] : ['spec', 'managers', 'prefer', i, 'expr'];
    const expression = compile(source, 'rank', path);
    const order: PreferOrder = typeof item === 'string' ? 'descending' : (item.order ?? 'descending');
    if (expression) prefer.push({ expression, order });
  });

  if (problems.length > 0 || !eligible || !workerEligible || Array.isArray(driver)) return { ok: false, diagnostics: sortDiagnostics(problems) };
  const policy: Policy = {
    name: raw.metadata.name,
    version: raw.metadata.version,
    ...(raw.metadata.description === undefined ? {} : { description: raw.metadata.description }),
    driver,
    managers: {
      count: raw.spec.managers.count.map((s) => ({ atLeast: s.atLeast, managers: s.managers })),
      eligible,
      prefer,
      ...(raw.spec.managers.spreadBy === undefined ? {} : { spreadBy: raw.spec.managers.spreadBy }),
      alsoWorker: raw.spec.managers.alsoWorker ?? false,
      sticky: raw.spec.managers.sticky ?? true,
    },
    workers: { eligible: workerEligible },
    timing: { stabilizationMs, failureGraceMs },
  };
  return { ok: true, policy };
}

/** The YAML shape after schema validation. */
interface RawPolicy {
  metadata: { name: string; version: number; description?: string };
  spec: {
    driver: { name: DriverName; settings?: Record<string, unknown> };
    managers: {
      count: CountStep[];
      eligible?: string;
      prefer?: (string | { expr: string; order?: PreferOrder })[];
      spreadBy?: string;
      alsoWorker?: boolean;
      sticky?: boolean;
    };
    workers?: { eligible?: string };
    timing?: { stabilization?: string; failureGrace?: string };
  };
}

type Path = (string | number)[];
type Report = (path: Path, message: string) => void;

function checkCount(steps: readonly CountStep[], report: Report): void {
  steps.forEach((step, i) => {
    const here: Path = ['spec', 'managers', 'count', i];
    const previous = steps[i - 1];
    if (previous && step.atLeast <= previous.atLeast) {
      report([...here, 'atLeast'], `${pathText(here)}.atLeast: steps must be in increasing atLeast order (${step.atLeast} follows ${previous.atLeast})`);
    }
    if (step.managers % 2 === 0) {
      report(
        [...here, 'managers'],
        `${pathText(here)}.managers: even manager count ${step.managers}: quorum needs an odd number (${step.managers} managers tolerate no more failures than ${step.managers - 1})`,
      );
    }
    if (step.managers > step.atLeast) {
      report(
        [...here, 'managers'],
        `${pathText(here)}.managers: impossible count: ${step.managers} managers from ${step.atLeast} eligible node(s) (managers must not exceed atLeast)`,
      );
    }
    if (previous && step.managers < previous.managers) {
      report(
        [...here, 'managers'],
        `${pathText(here)}.managers: manager count must not shrink as the fleet grows (${step.managers} after ${previous.managers})`,
      );
    }
  });
}

function checkDuration(text: string, path: Path, report: Report): number {
  const ms = parseDuration(text);
  if (ms === undefined) {
    report(path, `${pathText(path)}: '${text}' is not a duration (use e.g. 500ms, 10s, 1m30s)`);
    return 0;
  }
  return ms;
}

/** Finds where in the YAML source a path (or an ajv error) points. */
class Locator {
  constructor(private readonly doc: Document) {}

  offsetOf(error: ErrorObject): number {
    const path = decodePointer(error.instancePath);
    if (error.keyword === 'additionalProperties') {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const map = this.node(path);
      if (isMap(map)) {
        const pair = map.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
        const keyNode = pair?.key as YamlNode | undefined;
        if (keyNode?.range) return keyNode.range[0];
      }
    }
    return this.offsetAt(path);
  }

  /** Offset of the deepest existing node on `path`. */
  offsetAt(path: Path): number {
    for (let n = path.length; n >= 0; n--) {
      const node = this.node(path.slice(0, n));
      if (node?.range) return node.range[0];
    }
    return 0;
  }

  /** Offset of a character inside a CEL expression scalar (exact for one-line scalars). */
  expressionOffset(path: Path, exprOffset: number): number {
    const node = this.node(path);
    if (!isScalar(node) || !node.range) return this.offsetAt(path);
    const scalar = node as Scalar;
    if (scalar.type === 'PLAIN') return scalar.range![0] + exprOffset;
    if (scalar.type === 'QUOTE_DOUBLE' || scalar.type === 'QUOTE_SINGLE') return scalar.range![0] + 1 + exprOffset;
    return scalar.range![0];
  }

  private node(path: Path): YamlNode | undefined {
    if (path.length === 0) return (this.doc.contents as YamlNode | null) ?? undefined;
    return this.doc.getIn(path, true) as YamlNode | undefined;
  }
}

function decodePointer(pointer: string): Path {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^[0-9]+$/.test(s) ? Number(s) : s));
}

/** `spec.managers.count[1].managers` */
export function pathText(path: Path): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out === '' ? '(document)' : out;
}

function schemaMessage(error: ErrorObject): string {
  const where = pathText(decodePointer(error.instancePath));
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return `${where}: unknown key '${String(params.additionalProperty)}' (allowed: ${allowed.join(', ')})`;
    }
    case 'required':
      return `${where}: missing required key '${String(params.missingProperty)}'`;
    case 'type':
      return `${where}: must be ${String(params.type).replace(',', ' or ')}, got ${jsonType(error.data)}`;
    case 'const':
      return `${where}: must be '${String(params.allowedValue)}', got ${JSON.stringify(error.data)}`;
    case 'enum':
      return `${where}: must be one of ${(params.allowedValues as unknown[]).join(', ')}; got ${JSON.stringify(error.data)}`;
    case 'pattern':
      return patternMessage(where, error);
    case 'minimum':
      return `${where}: must be at least ${String(params.limit)}, got ${JSON.stringify(error.data)}`;
    case 'minItems':
      return `${where}: must have at least ${String(params.limit)} item(s)`;
    case 'minLength':
      return `${where}: must not be empty`;
    default:
      return `${where}: ${error.message ?? error.keyword}`;
  }
}

function patternMessage(where: string, error: ErrorObject): string {
  const value = JSON.stringify(error.data);
  if (where.startsWith('spec.timing.')) return `${where}: ${value} is not a duration (use e.g. 500ms, 10s, 1m30s)`;
  if (where === 'metadata.name') return `${where}: ${value} is not a valid name (lowercase letters, digits and '-', at most 63)`;
  if (where.endsWith('spreadBy')) return `${where}: ${value} is not a valid label key`;
  return `${where}: ${value} does not match ${String((error.params as { pattern: string }).pattern)}`;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'number') return Number.isInteger(value) ? `integer ${value}` : `number ${value}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return list.sort((a, b) => a.line - b.line || a.col - b.col);
}
