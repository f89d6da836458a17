/** The evaluation of a document content: cached by content, and its assignment by what it depends on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPolicy } from '../../src/policy/load.js';
import { evaluate } from '../../src/policy/evaluate.js';
import { evaluateDocument } from '../../src/roles/document-evaluation.js';
import { CONTROL_PLANE_DRIVER, CONTROL_PLANE_KEY, controlPlaneToJson } from '../../src/roles/control-plane-record.js';
import { ManualClock } from '../../src/seams/manual-clock.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import { ClusterDoc } from '../../src/state/cluster-doc.js';
import { RecordingLogger } from '../support/recording-logger.js';

const POLICY = loadPolicy(
  `apiVersion: pace/v1
kind: ClusterPolicy
metadata: { name: eval-cache, version: 1 }
spec:
  driver: { name: log }
  managers:
    count: [ { atLeast: 1, managers: 1 } ]
    prefer: [ "node.memoryMB" ]
`,
  'eval-cache.yaml',
);
if (!POLICY.ok) throw new Error('test policy does not load');
const ACTIVE = { policy: POLICY.policy, key: 'eval-cache@1:test' };

test('a role record that moves no seat reuses the assignment; a seat change evaluates again', () => {
  const clock = new ManualClock();
  const docs = ['a', 'b'].map((self, i) => ClusterDoc.create({ cluster: 'eval', self, clock, random: new SeededRandom(i + 1), logger: new RecordingLogger() }));
  const [a, b] = docs as [ClusterDoc, ClusterDoc];
  const fromB: Uint8Array[] = [];
  b.onChange((e) => e.change && fromB.push(e.change));
  const member = (memoryMB: number) => ({ name: 'n', addresses: [], facts: { cpus: 2, memoryMB, diskGB: 10, arch: 'amd64' }, labels: {}, joinedAt: 1, leftAt: null, incarnation: 0 });
  a.writeOwnMember(member(4096));
  b.writeOwnMember(member(2048));
  a.applyChanges(fromB);

  const first = evaluateDocument(a, ACTIVE);
  assert.deepEqual(first.assignment?.managers, ['a']);

  // a records its role as a worker: a new content and a new view, the same assignment.
  a.writeOwnRole({ role: 'worker', phase: 'ready' });
  const afterRole = evaluateDocument(a, ACTIVE);
  assert.notEqual(afterRole, first);
  assert.equal(afterRole.view.members.find((m) => m.id === 'a')?.role, 'worker');
  assert.equal(afterRole.assignment, first.assignment, 'no evaluation for a role that moves no seat');

  // A recorded seat is incumbency, which evaluate() weighs: evaluated again, and as evaluate() says.
  a.writeDriverRecord(CONTROL_PLANE_DRIVER, CONTROL_PLANE_KEY, controlPlaneToJson({ members: ['b'], epoch: 1, by: 'a', at: 1 }));
  const afterSeat = evaluateDocument(a, ACTIVE);
  assert.notEqual(afterSeat.assignment, first.assignment);
  assert.deepEqual(afterSeat.assignment, evaluate(ACTIVE.policy, { members: afterSeat.view.members }));
});
