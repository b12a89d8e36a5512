/** The conformance suite every StateStore passes: memory, Redis, and Redis behind failover. */
import { describe, expect, it } from 'vitest';
import type { StateStore } from '../../../src/gateway/state/state-store.js';

export interface StoreHarness {
  store: StateStore;
  /** The store's conversations per caller (made small for the quota case). */
  quota: number;
  /** Moves the store's clock forward. */
  advance(ms: number): Promise<void>;
}

export function runStateStoreConformance(name: string, create: () => Promise<StoreHarness>): void {
  describe(`StateStore conformance: ${name}`, () => {
    it('counts usage per minute window, and starts over in the next minute', async () => {
      const { store, advance } = await create();
      await store.addUsage('d1', 1, 100);
      await store.addUsage('d1', 1, 50);
      await store.addUsage('d2', 1, 7);
      expect(await store.usage(['d1', 'd2', 'd3'])).toEqual(
        new Map([
          ['d1', { requests: 2, tokens: 150 }],
          ['d2', { requests: 1, tokens: 7 }],
          ['d3', { requests: 0, tokens: 0 }],
        ]),
      );
      await advance(60_000);
      expect((await store.usage(['d1'])).get('d1')).toEqual({ requests: 0, tokens: 0 });
    });

    it('reserves within rpm/tpm limits atomically: concurrent reserves never overshoot', async () => {
      const { store } = await create();
      const results = await Promise.all(
        Array.from({ length: 25 }, () => store.reserve('r', 10, { rpm: 10 })),
      );
      expect(results.filter(Boolean)).toHaveLength(10);
      expect((await store.usage(['r'])).get('r')).toEqual({ requests: 10, tokens: 100 });
      // tpm: 35 tokens allowed, 3 reserves of 10 fit, the fourth does not; nothing counted for it.
      const tpm = [];
      for (let i = 0; i < 4; i++) tpm.push(await store.reserve('t', 10, { tpm: 35 }));
      expect(tpm).toEqual([true, true, true, false]);
      expect((await store.usage(['t'])).get('t')).toEqual({ requests: 3, tokens: 30 });
      // No limits: always counted. A negative correction lowers the token count.
      expect(await store.reserve('n', 5, {})).toBe(true);
      await store.addUsage('n', 0, -2);
      expect((await store.usage(['n'])).get('n')).toEqual({ requests: 1, tokens: 3 });
    });

    it('starts a fresh rpm window each minute', async () => {
      const { store, advance } = await create();
      expect(await store.reserve('w', 1, { rpm: 1 })).toBe(true);
      expect(await store.reserve('w', 1, { rpm: 1 })).toBe(false);
      await advance(60_000);
      expect(await store.reserve('w', 1, { rpm: 1 })).toBe(true);
    });

    it('reports its status', async () => {
      const { store } = await create();
      const status = store.status();
      expect(typeof status.kind).toBe('string');
      expect(status.connected).toBe(true);
    });

    it('counts failures in the minute and clears them', async () => {
      const { store } = await create();
      expect(await store.recordFailure('d')).toBe(1);
      expect(await store.recordFailure('d')).toBe(2);
      await store.clearFailures('d');
      expect(await store.recordFailure('d')).toBe(1);
    });

    it('cools until the deadline; a later deadline replaces an earlier one, never the reverse', async () => {
      const { store, advance } = await create();
      const now = Date.now();
      const first = await store.coolDown('d', now + 5_000);
      expect(await store.coolDown('d', now + 1_000)).toBe(first);
      const later = await store.coolDown('d', now + 9_000);
      expect(later).toBe(now + 9_000);
      expect((await store.cooldowns(['d', 'x'])).get('d')).toBe(later);
      expect((await store.cooldowns(['d', 'x'])).has('x')).toBe(false);
      await advance(10_000);
      expect((await store.cooldowns(['d'])).size).toBe(0);
    });

    it('averages latency samples younger than the TTL', async () => {
      const { store, advance } = await create();
      await store.recordLatency('d', 100);
      await advance(5_000);
      await store.recordLatency('d', 300);
      expect((await store.latencies(['d', 'x'], 60_000)).get('d')).toBe(200);
      expect((await store.latencies(['d'], 2_000)).get('d')).toBe(300);
      expect((await store.latencies(['x'], 60_000)).has('x')).toBe(false);
    });

    it('keeps the last 50 latency samples of a deployment', async () => {
      const { store, advance } = await create();
      for (let i = 0; i < 60; i++) {
        await store.recordLatency('d', i);
        await advance(10);
      }
      // Samples 10 … 59: their mean is 34.5; with the first ten it would be 29.5.
      expect((await store.latencies(['d'], 60_000)).get('d')).toBe(34.5);
    });

    it('tracks in-flight counts without going negative', async () => {
      const { store } = await create();
      expect(await store.addInFlight('d', 1)).toBe(1);
      expect(await store.addInFlight('d', 1)).toBe(2);
      expect(await store.addInFlight('d', -1)).toBe(1);
      expect(await store.addInFlight('d', -5)).toBe(0);
      expect((await store.inFlight(['d'])).get('d')).toBe(0);
    });

    it('keeps sticky sessions for their TTL, refreshed by each set', async () => {
      const { store, advance } = await create();
      await store.setSticky('s', 'model-a', 300_000);
      await advance(200_000);
      expect(await store.getSticky('s')).toBe('model-a');
      await store.setSticky('s', 'model-a', 300_000);
      await advance(200_000);
      expect(await store.getSticky('s')).toBe('model-a');
      await advance(150_000);
      expect(await store.getSticky('s')).toBeUndefined();
    });

    it('caches values for their TTL', async () => {
      const { store, advance } = await create();
      await store.setCached('k', '{"a":1}', 1_000);
      expect(await store.getCached('k')).toBe('{"a":1}');
      await advance(1_500);
      expect(await store.getCached('k')).toBeUndefined();
    });

    it('keeps route-page sessions for their TTL, and a deleted one is gone at once', async () => {
      const { store, advance } = await create();
      await store.setSession('t1', 'print', 10_000);
      await store.setSession('t2', 'print', 10_000);
      expect(await store.getSession('t1')).toBe('print');
      await store.deleteSession('t1');
      expect(await store.getSession('t1')).toBeUndefined();
      expect(await store.getSession('t2')).toBe('print');
      await advance(11_000);
      expect(await store.getSession('t2')).toBeUndefined();
      // Sessions and sticky sessions are separate rooms: the same key does not cross.
      await store.setSticky('t3', 'sticky', 10_000);
      expect(await store.getSession('t3')).toBeUndefined();
    });

    it("keeps conversations per caller, within each caller's own quota", async () => {
      const { store, advance, quota } = await create();
      await store.putConversation('b', 'keep-me', 'b-1', 60_000);
      for (let i = 0; i < quota + 5; i++) await store.putConversation('a', `r${i}`, `a-${i}`, 60_000);
      // A's flood evicted A's own oldest, never B's.
      expect(await store.getConversation('b', 'keep-me')).toBe('b-1');
      expect(await store.getConversation('a', 'r0')).toBeUndefined();
      expect(await store.getConversation('a', `r${quota + 4}`)).toBe(`a-${quota + 4}`);
      // One caller cannot read another's, whatever the id.
      expect(await store.getConversation('a', 'keep-me')).toBeUndefined();
      await advance(61_000);
      expect(await store.getConversation('b', 'keep-me')).toBeUndefined();
    });

    it('holds spend atomically across buckets: concurrent holds stop at the limit, settling moves held to spent', async () => {
      const { store } = await create();
      const key = { scope: 'key:k1', window: 1_000, end: Date.now() + 3_600_000, limit: 1 };
      const proxy = { scope: 'proxy', window: 0, end: undefined, limit: 100 };
      // 0.3 each against 1 USD: the first four fit (0, 0.3, 0.6, 0.9 are all below 1), the rest do not.
      const holds = await Promise.all(Array.from({ length: 10 }, () => store.holdSpend([key, proxy], 0.3)));
      expect(holds.filter((h) => h.full === -1)).toHaveLength(4);
      expect(holds.filter((h) => h.full === 0)).toHaveLength(6);
      // A refused hold held nothing anywhere: the proxy bucket only carries the four.
      const [k, p] = await store.tallies([key, proxy]);
      expect(k!.held).toBeCloseTo(1.2, 9);
      expect(p!.held).toBeCloseTo(1.2, 9);
      expect(await store.settleSpend([key, proxy], 0.3, 0.05, ['key:alias-1', 'model:gpt'])).toEqual([
        expect.closeTo(0.05, 9),
        expect.closeTo(0.05, 9),
      ]);
      const [k2] = await store.tallies([key]);
      expect(k2!.held).toBeCloseTo(0.9, 9);
      expect(k2!.spent).toBeCloseTo(0.05, 9);
      // The second bucket's index is reported when it is the full one.
      const tight = { scope: 'proxy-tight', window: 0, end: undefined, limit: 0.01 };
      await store.settleSpend([tight], 0, 0.02, []);
      const refused = await store.holdSpend([{ ...key, scope: 'key:k2' }, tight], 0.1);
      expect(refused.full).toBe(1);
      expect(refused.spent[1]).toBeCloseTo(0.02, 9);
      // A limit no spend reaches (a key without a budget) holds.
      const open = { scope: 'key:k3', window: 0, end: undefined, limit: Number.MAX_VALUE };
      expect((await store.holdSpend([open], 5)).full).toBe(-1);
      expect((await store.tallies([{ ...key, scope: 'key:k2' }]))[0]).toEqual({ spent: 0, held: 0 });
      // Another window is another tally.
      expect((await store.tallies([{ ...key, window: 2_000 }]))[0]).toEqual({ spent: 0, held: 0 });
      await store.settleSpend([key], 0, 0.25, ['key:alias-1']);
      const totals = await store.spendTotals('key:');
      expect(totals.get('key:alias-1')).toBeCloseTo(0.3, 9);
      expect([...totals.keys()]).toEqual(['key:alias-1']);
      expect((await store.spendTotals('model:')).get('model:gpt')).toBeCloseTo(0.05, 9);
      // Held never goes below zero, whatever is released.
      await store.settleSpend([proxy], 50, 0, []);
      expect((await store.tallies([proxy]))[0]!.held).toBe(0);
    });
  });
}
