/** The key throttle: per address, across addresses, and how entries leave. */
import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../../src/server/ui/session.js';

describe('LoginThrottle', () => {
  it('blocks an address after its limit until its window ends', () => {
    let now = 0;
    const t = new LoginThrottle(() => now, 3, 60_000, 1_000);
    for (let i = 0; i < 3; i++) t.failed('a');
    expect(t.blockedFor('a')).toBe(60);
    expect(t.blockedFor('b')).toBe(0);
    now = 59_500;
    expect(t.blockedFor('a')).toBe(1);
    now = 60_000;
    expect(t.blockedFor('a')).toBe(0);
  });

  it('a budget over every address: guesses spread over many addresses are stopped too', () => {
    let now = 0;
    const t = new LoginThrottle(() => now, 10, 60_000, 50);
    for (let i = 0; i < 50; i++) t.failed(`10.0.0.${i}`);
    // No single address is over its limit, but together they are.
    expect(t.blockedFor('10.0.0.1')).toBe(0);
    expect(t.globallyBlockedFor()).toBe(60);
    now = 60_000;
    expect(t.globallyBlockedFor()).toBe(0);
  });

  it('expires entries one by one, and past the cap drops the oldest only (never wipes every count)', () => {
    let now = 0;
    const t = new LoginThrottle(() => now, 5, 60_000, 1_000_000, 100);
    for (let i = 0; i < 5; i++) t.failed('attacker');
    // A flood of other addresses past the cap: the oldest goes first — here, the attacker's
    // entry is refreshed by each guess, so it stays.
    for (let i = 0; i < 250; i++) {
      t.failed(`flood-${i}`);
      if (i % 50 === 0) t.failed('attacker');
    }
    expect(t.size).toBe(100);
    expect(t.blockedFor('attacker')).toBeGreaterThan(0);
    // Expired windows leave as time passes, without a clear.
    now = 61_000;
    t.failed('late');
    expect(t.size).toBe(1);
  });
});
