import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScriptedProcessRunner } from '../../src/seams/scripted-process-runner.js';

describe('ScriptedProcessRunner', () => {
  it('answers exit 0 with no output by default and records each call', async () => {
    const runner = new ScriptedProcessRunner();
    const result = await runner.run({ command: 'etcdctl', args: ['member', 'list'] });
    assert.deepEqual(result, { exitCode: 0, signal: null, stdout: '', stderr: '', timedOut: false, truncated: false, durationMs: 0 });
    assert.deepEqual(runner.calls, [{ command: 'etcdctl', args: ['member', 'list'] }]);
  });

  it('records a copy, so later mutation by the caller does not rewrite history', async () => {
    const runner = new ScriptedProcessRunner();
    const args = ['a'];
    await runner.run({ command: 'x', args });
    args.push('b');
    assert.deepEqual(runner.callsTo('x')[0]?.args, ['a']);
  });

  it('answers from the handler, filling defaults for fields it leaves out', async () => {
    const runner = new ScriptedProcessRunner(async (req) => ({ stdout: `ran ${req.command}` }));
    const result = await runner.run({ command: 'hook' });
    assert.equal(result.stdout, 'ran hook');
    assert.equal(result.exitCode, 0);
  });

  it('failNext applies once, to the first matching request, ahead of the handler', async () => {
    const runner = new ScriptedProcessRunner(() => ({ stdout: 'handler' }));
    runner.failNext('etcdctl', { stderr: 'no leader' });
    runner.answerNext((req) => req.args?.includes('status') === true, { stdout: 'healthy' });
    assert.equal((await runner.run({ command: 'other' })).stdout, 'handler');
    const failed = await runner.run({ command: 'etcdctl', args: ['put'] });
    assert.equal(failed.exitCode, 1);
    assert.equal(failed.stderr, 'no leader');
    assert.equal((await runner.run({ command: 'etcdctl', args: ['put'] })).exitCode, 0);
    assert.equal((await runner.run({ command: 'etcdctl', args: ['status'] })).stdout, 'healthy');
    assert.equal(runner.calls.length, 4);
  });

  it('rejects when the handler throws or the signal is already aborted', async () => {
    const runner = new ScriptedProcessRunner(() => {
      throw new Error('scripted failure');
    });
    await assert.rejects(runner.run({ command: 'x' }), /scripted failure/);
    await assert.rejects(runner.run({ command: 'x' }, { signal: AbortSignal.abort(new Error('aborted')) }), /aborted/);
    assert.equal(runner.calls.length, 1);
  });
});
