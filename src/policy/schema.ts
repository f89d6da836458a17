/**
 * The published JSON Schema of a ClusterPolicy (`policies/cluster-policy.schema.json` is written
 * from this object by `npm run schema`, and `npm test` fails when the two differ).
 *
 * The schema covers shape and types; `load.ts` adds what a schema cannot say (odd, possible,
 * non-decreasing manager counts; CEL that parses and type-checks).
 */
import { DRIVER_NAMES } from './types.js';

export const POLICY_API_VERSION = 'pace/v1';
export const POLICY_KIND = 'ClusterPolicy';
export const DURATION_PATTERN = '^([0-9]+(ms|s|m|h))+$';
export const LABEL_KEY_PATTERN = '^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$';
export const NAME_PATTERN = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';

const celExpression = (description: string) => ({ type: 'string', minLength: 1, description });
const duration = (description: string, example: string) => ({
  type: 'string',
  pattern: DURATION_PATTERN,
  description: `${description} A duration such as ${example} (units: ms, s, m, h).`,
});

export const policySchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'urn:pace:schema:cluster-policy:v1',
  title: 'PACE ClusterPolicy',
  description: 'Decides, on every node and without a leader, which nodes are managers and which are workers.',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: POLICY_API_VERSION },
    kind: { const: POLICY_KIND },
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'version'],
      properties: {
        name: { type: 'string', pattern: NAME_PATTERN, description: 'DNS-label style name of the policy.' },
        version: {
          type: 'integer',
          minimum: 1,
          description: 'Monotonic version; among validly signed policies the highest version wins.',
        },
        description: { type: 'string' },
      },
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['driver', 'managers'],
      properties: {
        driver: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            name: { enum: [...DRIVER_NAMES], description: 'The driver that performs the roles.' },
            settings: {
              type: 'object',
              description: 'Free-form settings, validated by the driver named above.',
            },
          },
        },
        managers: {
          type: 'object',
          additionalProperties: false,
          required: ['count'],
          properties: {
            count: {
              type: 'array',
              minItems: 1,
              description:
                'Managers as a function of eligible live nodes: the step with the largest atLeast not above that number applies.',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['atLeast', 'managers'],
                properties: {
                  atLeast: { type: 'integer', minimum: 1 },
                  managers: { type: 'integer', minimum: 1 },
                },
              },
            },
            eligible: celExpression('CEL over `node`: which live nodes may be managers. Default: true.'),
            prefer: {
              type: 'array',
              description: 'CEL criteria ranking eligible nodes, most important first; ties break by node id.',
              items: {
                type: ['string', 'object'],
                minLength: 1,
                if: { type: 'object' },
                then: {
                  additionalProperties: false,
                  required: ['expr'],
                  properties: {
                    expr: celExpression('CEL returning bool, int or double.'),
                    order: { enum: ['descending', 'ascending'], description: 'descending (default): larger or true first.' },
                  },
                },
              },
            },
            spreadBy: {
              type: 'string',
              pattern: LABEL_KEY_PATTERN,
              description: 'Label key (zone, rack) to spread managers across as evenly as the fleet allows.',
            },
            alsoWorker: { type: 'boolean', description: 'Managers also run workloads (manager+worker). Default: false.' },
            sticky: {
              type: 'boolean',
              description: 'A live, still-eligible manager keeps its seat when a better-ranked node joins. Default: true.',
            },
          },
        },
        workers: {
          type: 'object',
          additionalProperties: false,
          properties: {
            eligible: celExpression('CEL over `node`: which live non-managers run workloads. Default: true.'),
          },
        },
        timing: {
          type: 'object',
          additionalProperties: false,
          properties: {
            stabilization: duration('How long the view must be unchanged before a control-plane change. Default 10s.', '10s'),
            failureGrace: duration('How long a node may be unreachable before it is declared down. Default 5s.', '5s'),
          },
        },
      },
    },
  },
} as const;
