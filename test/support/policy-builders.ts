/** Builders for policy tests: YAML text from parameters, loaded through the real loader. */
import fc from 'fast-check';
import { loadPolicy } from '../../src/policy/load.js';
import type { CountStep, MemberView, Policy, Role } from '../../src/policy/types.js';

export interface PolicyParams {
  count: CountStep[];
  eligible: string;
  prefer: (string | { expr: string; order: 'ascending' | 'descending' })[];
  spreadBy?: string;
  alsoWorker: boolean;
  sticky: boolean;
  workersEligible: string;
}

export function policyYaml(p: PolicyParams): string {
  const lines = [
    'apiVersion: pace/v1',
    'kind: ClusterPolicy',
    'metadata: { name: generated, version: 1 }',
    'spec:',
    '  driver: { name: log }',
    '  managers:',
    `    count: ${JSON.stringify(p.count)}`,
    `    eligible: ${JSON.stringify(p.eligible)}`,
    `    prefer: ${JSON.stringify(p.prefer)}`,
    ...(p.spreadBy ? [`    spreadBy: ${p.spreadBy}`] : []),
    `    alsoWorker: ${p.alsoWorker}`,
    `    sticky: ${p.sticky}`,
    '  workers:',
    `    eligible: ${JSON.stringify(p.workersEligible)}`,
  ];
  return `${lines.join('\n')}\n`;
}

export function buildPolicy(p: PolicyParams): Policy {
  const result = loadPolicy(policyYaml(p), 'generated.yaml');
  if (!result.ok) throw new Error(`generated policy is invalid: ${JSON.stringify(result.diagnostics)}\n${policyYaml(p)}`);
  return result.policy;
}

/** Count steps: increasing atLeast, odd managers never above atLeast and never shrinking. */
export const countArb: fc.Arbitrary<CountStep[]> = fc
  .uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 })
  .chain((atLeasts) => {
    const sorted = [...atLeasts].sort((a, b) => a - b);
    return fc.tuple(...sorted.map(() => fc.nat(6))).map((picks) => {
      let previous = 1;
      return sorted.map((atLeast, i) => {
        const maxOdd = atLeast % 2 === 1 ? atLeast : atLeast - 1;
        const wanted = 1 + 2 * (picks[i] ?? 0);
        const managers = Math.max(previous, Math.min(wanted, maxOdd));
        previous = managers;
        return { atLeast, managers };
      });
    });
  });

export const ELIGIBLE_EXPRESSIONS = ['true', 'node.memoryMB >= 2048', "node.arch == 'amd64'", 'node.cpus >= 2 && node.memoryMB >= 1024'];
export const PREFER_CRITERIA = [
  'node.memoryMB',
  'node.cpus',
  "has(node.labels.tier) && node.labels.tier == 'control'",
  { expr: 'node.diskGB', order: 'ascending' as const },
];

export const policyParamsArb: fc.Arbitrary<PolicyParams> = fc.record({
  count: countArb,
  eligible: fc.constantFrom(...ELIGIBLE_EXPRESSIONS),
  prefer: fc.subarray(PREFER_CRITERIA),
  spreadBy: fc.option(fc.constant('zone'), { nil: undefined }),
  alsoWorker: fc.boolean(),
  sticky: fc.boolean(),
  workersEligible: fc.constantFrom('true', 'node.memoryMB >= 1024'),
});

const ROLE_OR_NULL: (Role | null)[] = ['manager', 'worker', 'manager+worker', 'none', null];

export function memberArb(id: string, opts: { roles?: boolean; alive?: boolean } = {}): fc.Arbitrary<MemberView> {
  return fc.record({
    id: fc.constant(id),
    facts: fc.record({
      cpus: fc.constantFrom(1, 2, 4, 8),
      memoryMB: fc.constantFrom(512, 1024, 2048, 4096, 8192),
      diskGB: fc.constantFrom(16, 64, 256),
      arch: fc.constantFrom('amd64', 'arm64'),
    }),
    labels: fc.record(
      { zone: fc.constantFrom('a', 'b', 'c'), tier: fc.constantFrom('control', 'edge') },
      { requiredKeys: [] },
    ),
    alive: opts.alive === undefined ? fc.boolean() : fc.constant(opts.alive),
    role: opts.roles === false ? fc.constant(null) : fc.constantFrom(...ROLE_OR_NULL),
    // One in four passed over (its control-plane software kept failing to take a seat).
    passedOver: fc.constantFrom(false, false, false, true),
  });
}

/** A fleet of 0..maxSize members with unique ids n00, n01, ... */
export function fleetArb(maxSize: number, opts: { roles?: boolean; alive?: boolean } = {}): fc.Arbitrary<MemberView[]> {
  return fc.integer({ min: 0, max: maxSize }).chain((n) =>
    fc.tuple(...Array.from({ length: n }, (_, i) => memberArb(`n${String(i).padStart(2, '0')}`, opts))),
  );
}
