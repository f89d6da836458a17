import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as Automerge from '@automerge/automerge';
import { parsedRecord, recordText } from '../../src/state/record-text.js';
import { parseRole, type SchemaIssueSink } from '../../src/state/schema.js';

function collecting(): { sink: SchemaIssueSink; issues: string[] } {
  const issues: string[] = [];
  return { sink: (path, reason) => issues.push(`${path}: ${reason}`), issues };
}

void describe('records as JSON text', () => {
  void it('writes canonical JSON: keys sorted at every depth, so equal records are equal text', () => {
    assert.equal(recordText({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
    assert.equal(recordText({ x: 'é', n: 1.5 }), recordText({ n: 1.5, x: 'é' }));
  });

  void it('parses a record from plain or ImmutableString text, once per text, frozen and shared', () => {
    const text = recordText({ role: 'worker', phase: 'ready', detail: null, at: 5 });
    const { sink, issues } = collecting();
    const first = parsedRecord('roles.n1', 'n1', text, parseRole, sink);
    const again = parsedRecord('roles.n1', 'n1', new Automerge.ImmutableString(text), parseRole, sink);
    assert.deepEqual(first, { role: 'worker', phase: 'ready', detail: null, at: 5 });
    assert.equal(again, first, 'the same parse serves every reader of the same text');
    assert.ok(Object.isFrozen(first));
    assert.deepEqual(issues, []);
  });

  void it('reports what does not fit and returns undefined: not text, not JSON, not the schema', () => {
    const { sink, issues } = collecting();
    assert.equal(parsedRecord('roles.n1', 'n1', undefined, parseRole, sink), undefined, 'absent: no issue');
    assert.equal(parsedRecord('roles.n1', 'n1', { role: 'worker' }, parseRole, sink), undefined);
    assert.equal(parsedRecord('roles.n1', 'n1', 42, parseRole, sink), undefined);
    assert.equal(parsedRecord('roles.n1', 'n1', '{"role":', parseRole, sink), undefined);
    assert.equal(parsedRecord('roles.n1', 'n1', recordText({ role: 'king', phase: 'ready', detail: null, at: 5 }), parseRole, sink), undefined);
    assert.deepEqual(issues.slice(0, 2), ['roles.n1: expected a record as JSON text, got an object', 'roles.n1: expected a record as JSON text, got a number']);
    assert.match(issues[2] ?? '', /^roles\.n1: not JSON: /);
    assert.match(issues[3] ?? '', /^roles\.n1: role: unknown "king"/);
    // A bad record is not cached: every reader that meets it hears why.
    const second = collecting();
    parsedRecord('roles.n1', 'n1', recordText({ role: 'king', phase: 'ready', detail: null, at: 5 }), parseRole, second.sink);
    assert.equal(second.issues.length, 1);
  });

  void it("reads a role record's failedChanges when present, and refuses the record when it is no count", () => {
    const { sink, issues } = collecting();
    const parse = (fields: Record<string, unknown>): unknown => parsedRecord('roles.n1', 'n1', recordText({ role: 'worker', phase: 'failed', detail: null, at: 5, ...fields }), parseRole, sink);
    assert.deepEqual(parse({ failedChanges: 3 }), { role: 'worker', phase: 'failed', detail: null, at: 5, failedChanges: 3 });
    assert.equal(parse({ failedChanges: -1 }), undefined);
    assert.equal(parse({ failedChanges: '3' }), undefined);
    assert.deepEqual(issues, ['roles.n1: failedChanges: expected a non-negative integer, got -1', 'roles.n1: failedChanges: expected a non-negative integer, got "3"']);
  });
});

