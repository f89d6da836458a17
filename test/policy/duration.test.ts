import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../src/policy/duration.js';

test('durations parse in ms, s, m, h and combinations', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('0s'), 0);
});

test('anything else is not a duration', () => {
  for (const bad of ['', '10', '10 s', '1.5s', '-1s', 's', '10sec', '1d']) assert.equal(parseDuration(bad), undefined, bad);
});

test('formatDuration is the inverse of parseDuration', () => {
  fc.assert(fc.property(fc.nat(100 * 3_600_000), (ms) => assert.equal(parseDuration(formatDuration(ms)), ms)));
});
