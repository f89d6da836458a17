import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { encodeFrame, FrameDecoder } from '../../src/mesh/framing.js';
import { loadOrCreateNodeKey, NODE_KEY_NAME } from '../../src/mesh/identity.js';
import { createLibp2pMesh, resolveConfig } from '../../src/mesh/libp2p-mesh.js';
import { DEFAULT_MESH_CONFIG, mdnsServiceTag } from '../../src/mesh/mesh-config.js';
import { decodeResponse, encodeResponse } from '../../src/mesh/request-wire.js';
import { canonicalSwarmKeyBytes, formatSwarmKey, generateSwarmKey, parseSwarmKey } from '../../src/mesh/swarm-key.js';
import { MemoryStorage } from '../../src/seams/memory-storage.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import { SystemClock } from '../../src/seams/system-clock.js';

void describe('framing', () => {
  void it('round-trips frames split at every byte boundary', () => {
    const payloads = [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(300).fill(7), new Uint8Array(70_000).fill(9)];
    const wire = Buffer.concat(payloads.map(encodeFrame));
    for (const step of [1, 2, 127, 128, 4096, wire.byteLength]) {
      const decoder = new FrameDecoder(100_000);
      const frames: Uint8Array[] = [];
      for (let i = 0; i < wire.byteLength; i += step) frames.push(...decoder.push(wire.subarray(i, i + step)));
      assert.deepEqual(frames.map((f) => Buffer.from(f)), payloads.map((p) => Buffer.from(p)));
      assert.equal(decoder.pendingBytes, 0);
    }
  });

  void it('rejects a declared length above the cap before the payload arrives', () => {
    const decoder = new FrameDecoder(10);
    assert.throws(() => decoder.push(encodeFrame(new Uint8Array(11)).subarray(0, 1)), { name: 'FrameTooLargeError' });
  });

  void it('rejects an overlong or non-minimal length prefix', () => {
    assert.throws(() => new FrameDecoder(10).push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), { name: 'MalformedFrameError' });
    assert.throws(() => new FrameDecoder(10).push(new Uint8Array([0x81, 0x00])), { name: 'MalformedFrameError' });
  });

  void it('encodes response envelopes and refuses unknown statuses', () => {
    assert.deepEqual(decodeResponse(encodeResponse({ type: 'ok', body: new Uint8Array([5]) })), { type: 'ok', body: new Uint8Array([5]) });
    assert.deepEqual(decodeResponse(encodeResponse({ type: 'error', reason: 'boom' })), { type: 'error', reason: 'boom' });
    assert.equal(decodeResponse(new Uint8Array([9, 1])), undefined);
    assert.equal(decodeResponse(new Uint8Array(0)), undefined);
  });
});

void describe('swarm key', () => {
  void it('generates the standard text format and parses it back', () => {
    const file = generateSwarmKey(new SeededRandom(1));
    assert.match(file, /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/);
    assert.equal(formatSwarmKey(parseSwarmKey(file)), file);
    assert.equal(parseSwarmKey(file.replace(/\n/g, '\r\n')).byteLength, 32);
    assert.equal(new TextDecoder().decode(canonicalSwarmKeyBytes(new TextEncoder().encode(file))), file);
  });

  void it('rejects a wrong header, encoding or length with SwarmKeyError', () => {
    const good = generateSwarmKey(new SeededRandom(2));
    assert.throws(() => parseSwarmKey(good.replace('psk/1.0.0', 'psk/2.0.0')), { name: 'SwarmKeyError' });
    assert.throws(() => parseSwarmKey(good.replace('/base16/', '/base64/')), { name: 'SwarmKeyError' });
    assert.throws(() => parseSwarmKey(good.slice(0, -3)), { name: 'SwarmKeyError' });
    assert.throws(() => parseSwarmKey('garbage'), { name: 'SwarmKeyError' });
  });
});

void describe('node identity', () => {
  void it('creates node.key once and returns the same peer id afterwards', async () => {
    const storage = new MemoryStorage();
    const first = await loadOrCreateNodeKey(storage, { random: new SeededRandom(3) });
    assert.deepEqual(await storage.list(), [NODE_KEY_NAME]);
    const second = await loadOrCreateNodeKey(storage);
    assert.equal(peerIdFromPrivateKey(second).toString(), peerIdFromPrivateKey(first).toString());
    assert.deepEqual(await storage.read(NODE_KEY_NAME), privateKeyToProtobuf(first));
  });

  void it('refuses a corrupt key file, naming it, and leaves it in place', async () => {
    const storage = new MemoryStorage();
    await storage.write(NODE_KEY_NAME, new Uint8Array([1, 2, 3]));
    await assert.rejects(loadOrCreateNodeKey(storage), (err: Error) => {
      assert.equal(err.name, 'NodeKeyError');
      assert.match(err.message, /node\.key/);
      return true;
    });
    assert.deepEqual(await storage.read(NODE_KEY_NAME), new Uint8Array([1, 2, 3]));
  });
});

void describe('mesh configuration', () => {
  void it('derives distinct mDNS service tags per cluster', () => {
    assert.equal(mdnsServiceTag('Site A'), mdnsServiceTag('Site A'));
    assert.notEqual(mdnsServiceTag('site-a'), mdnsServiceTag('Site A'));
    assert.match(mdnsServiceTag('Site A'), /^_pace-site-a-[0-9a-f]{8}\._udp\.local$/);
    assert.ok(mdnsServiceTag('x'.repeat(200)).split('.')[0]!.length < 64, 'fits a DNS label');
  });

  void it('merges overrides over the profile and rejects bad settings with MeshConfigError', () => {
    const config = resolveConfig({ cluster: 'c', maxMessageBytes: 1000, gossip: { D: 5 } });
    assert.equal(config.maxMessageBytes, 1000);
    assert.equal(config.gossip.D, 5);
    assert.equal(config.gossip.Dhi, DEFAULT_MESH_CONFIG.gossip.Dhi);
    assert.throws(() => resolveConfig({ cluster: 'c', bootstrap: ['/ip4/10.0.0.1/tcp/7496'] }), { name: 'MeshConfigError' });
    assert.throws(() => resolveConfig({ cluster: 'c', listen: ['not a multiaddr'] }), { name: 'MeshConfigError' });
    assert.throws(() => resolveConfig({ cluster: 'c', gossip: { Dlo: 9 } }), { name: 'MeshConfigError' });
    assert.throws(() => resolveConfig({ cluster: 'c', maxRequestBytes: 0 }), { name: 'MeshConfigError' });
    assert.throws(() => resolveConfig({ cluster: 'c', swarmKey: 'nope' }), { name: 'SwarmKeyError' });
  });

  void it('knows its peer id before start and refuses work before start', async () => {
    const key = await loadOrCreateNodeKey(new MemoryStorage(), { random: new SeededRandom(4) });
    const mesh = createLibp2pMesh({ cluster: 'c', transport: 'memory', listen: [] }, { clock: new SystemClock(), random: new SeededRandom(5), privateKey: key });
    assert.equal(mesh.self, peerIdFromPrivateKey(key).toString());
    assert.deepEqual(mesh.peers(), []);
    await assert.rejects(mesh.publish('t', new Uint8Array(1)), { name: 'MeshNotStartedError' });
    await mesh.stop();
  });
});
