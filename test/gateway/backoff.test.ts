import { describe, expect, it } from 'vitest';
import { backoffDelay, retryAfterMs } from '../../src/gateway/backoff.js';

describe('backoff', () => {
  it('doubles from the initial delay up to the cap, with jitter downward', () => {
    const none = () => 0;
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, {}, { initialMs: 500, maxMs: 8000 }, none))).toEqual(
      [500, 1000, 2000, 4000, 8000, 8000],
    );
    expect(backoffDelay(2, {}, { initialMs: 500, jitter: 0.25 }, () => 0.999999)).toBeCloseTo(750, 0);
  });

  it('honours retry-after-ms, then Retry-After seconds or date, however long (the deadline decides)', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(backoffDelay(1, { 'retry-after-ms': '1234' }, {}, () => 0, now)).toBe(1234);
    expect(backoffDelay(1, { 'retry-after': '3' }, {}, () => 0, now)).toBe(3000);
    expect(backoffDelay(1, { 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }, {}, () => 0, now)).toBe(5000);
    // A longer wait than the client will allow is the retry loop's to refuse, never shortened here.
    expect(backoffDelay(1, { 'retry-after': '999999' }, {}, () => 0, now)).toBe(999_999_000);
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
  });

  it('never goes below the retry_after floor', () => {
    expect(backoffDelay(1, {}, { initialMs: 100, minMs: 2000 }, () => 0)).toBe(2000);
    expect(backoffDelay(1, { 'retry-after-ms': '10' }, { minMs: 2000 }, () => 0)).toBe(2000);
  });
});
