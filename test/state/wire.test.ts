import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeWire, encodeWire, MAX_GOSSIP_BYTES, WIRE_VERSION, type WireMessage } from '../../src/state/wire.js';

const H1 = 'ab'.repeat(32);
const H2 = '01'.repeat(32);

void describe('wire envelope', () => {
  const samples: WireMessage[] = [
    { type: 'changes', heads: [H1, H2], changes: [Uint8Array.from([1, 2, 3]), new Uint8Array(0)] },
    { type: 'sync', heads: [H1], message: Uint8Array.from([9, 9]) },
    { type: 'sync', heads: [], message: null },
    { type: 'change-refs', heads: [H1], refs: [{ hash: H2, base: H1, extra: [H2], rest: Uint8Array.from([7, 8]) }, { hash: H1, base: H2, extra: [], rest: new Uint8Array(0) }] },
    { type: 'want', heads: [H2], hashes: [H1, H2] },
  ];

  void it('round-trips every variant', () => {
    for (const m of samples) assert.deepEqual(decodeWire(encodeWire(m), MAX_GOSSIP_BYTES), m);
  });

  void it('starts with the version byte', () => {
    assert.equal(encodeWire(samples[0] as WireMessage)[0], WIRE_VERSION);
  });

  void it('rejects every truncation and any trailing byte with a WireDecodeError', () => {
    for (const m of samples) {
      const bytes = encodeWire(m);
      for (let n = 0; n < bytes.length; n++) {
        assert.throws(() => decodeWire(bytes.subarray(0, n), MAX_GOSSIP_BYTES), { name: 'WireDecodeError' }, `prefix ${n}`);
      }
      const longer = new Uint8Array(bytes.length + 1);
      longer.set(bytes);
      assert.throws(() => decodeWire(longer, MAX_GOSSIP_BYTES), { name: 'WireDecodeError', reason: 'undecodable' });
    }
  });

  void it('names the reason: oversized, unsupported-version, unexpected-type', () => {
    const bytes = encodeWire(samples[1] as WireMessage);
    assert.throws(() => decodeWire(bytes, bytes.length - 1), { reason: 'oversized' });
    const v2 = bytes.slice();
    v2[0] = 2;
    assert.throws(() => decodeWire(v2, MAX_GOSSIP_BYTES), { reason: 'unsupported-version' });
    const t9 = bytes.slice();
    t9[1] = 9;
    assert.throws(() => decodeWire(t9, MAX_GOSSIP_BYTES), { reason: 'unexpected-type' });
  });

  void it('refuses to encode heads that are not hashes', () => {
    assert.throws(() => encodeWire({ type: 'sync', heads: ['nope'], message: null }), RangeError);
  });
});
