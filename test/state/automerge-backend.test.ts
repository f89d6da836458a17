import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Automerge, createBackend, loadBackend, reserveWasmMemory, wasmMemoryBytes } from '../../src/state/automerge-backend.js';

describe('automerge-backend (the one wasm instance)', () => {
  it('runs the JS layer on the same instance as the handles', () => {
    const doc = Automerge.from({ a: 1 });
    const backend = loadBackend(Automerge.save(doc), 'aa'.repeat(16));
    assert.deepEqual(backend.materialize('_root'), { a: 1 });
    backend.free();
    Automerge.free(doc);
  });

  it('grows the wasm memory in one go to at least what is asked, and not again for less', () => {
    const before = wasmMemoryBytes();
    const target = before + 256 * 2 ** 20;
    const after = reserveWasmMemory(target);
    assert.ok(after >= target, `memory ${after} >= ${target}`);
    assert.ok(after < target + 128 * 2 ** 20, 'it stops within one step of the target');
    assert.equal(wasmMemoryBytes(), after);
    assert.equal(reserveWasmMemory(target - 1), after, 'a smaller reservation changes nothing');
    // The reserved memory is the allocator's to hand out: documents work as before.
    const backend = createBackend('bb'.repeat(16));
    const map = backend.putObject('_root', 'm', {});
    backend.put(map, 'k', 'v', 'str');
    backend.commit('x', 1);
    const copy = backend.fork('cc'.repeat(16));
    assert.deepEqual(copy.materialize('_root'), { m: { k: 'v' } });
    copy.free();
    backend.free();
    assert.equal(wasmMemoryBytes(), after);
  });
});
