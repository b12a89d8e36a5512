import { describe, expect, it } from 'vitest';
import { costBased } from '../../../src/gateway/strategies/cost-based.js';
import { STRATEGIES } from '../../../src/gateway/strategies/index.js';
import { latencyBased } from '../../../src/gateway/strategies/latency-based.js';
import { leastBusy } from '../../../src/gateway/strategies/least-busy.js';
import { simpleShuffle } from '../../../src/gateway/strategies/simple-shuffle.js';
import { usageBased } from '../../../src/gateway/strategies/usage-based.js';
import { deployment, input, runStrategyConformance } from './strategy.case.js';

for (const factory of Object.values(STRATEGIES)) runStrategyConformance(() => factory({}));

describe('simple-shuffle', () => {
  it('follows weights (then rpm) in proportion', () => {
    const a = deployment('a', { weight: 3 });
    const b = deployment('b', { weight: 1 });
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 4000; i++)
      counts[simpleShuffle().pick(input([a, b], { random: () => (i + 0.5) / 4000 }))!.id as 'a' | 'b']++;
    expect(counts.a).toBe(3000);
    const r = [deployment('r1', { rpm: 100 }), deployment('r2', { rpm: 300 })];
    expect(simpleShuffle().pick(input(r, { random: () => 0.2 }))!.id).toBe('r1');
    expect(simpleShuffle().pick(input(r, { random: () => 0.3 }))!.id).toBe('r2');
  });
});

describe('usage-based-routing', () => {
  it('sends to the least-used deployment and refuses when every window is full', () => {
    const a = deployment('a', { rpm: 10 });
    const b = deployment('b', { rpm: 10 });
    const usage = new Map([
      ['a', { requests: 6, tokens: 0 }],
      ['b', { requests: 2, tokens: 0 }],
    ]);
    expect(usageBased().pick(input([a, b], { usage }))!.id).toBe('b');
    usage.set('b', { requests: 10, tokens: 0 });
    expect(usageBased().pick(input([a, b], { usage }))!.id).toBe('a');
    usage.set('a', { requests: 10, tokens: 0 });
    expect(usageBased().pick(input([a, b], { usage }))).toBeUndefined();
    const t = deployment('t', { tpm: 100 });
    expect(
      usageBased().pick(
        input([t], { usage: new Map([['t', { requests: 0, tokens: 95 }]]), estimatedTokens: 10 }),
      ),
    ).toBeUndefined();
  });
});

describe('latency-based-routing', () => {
  it('tries unmeasured deployments first, then the fastest, sharing within the buffer', () => {
    const [a, b, c] = [deployment('a'), deployment('b'), deployment('c')];
    const latency = new Map([
      ['a', 100],
      ['b', 50],
    ]);
    expect(latencyBased().pick(input([a, b, c], { latency }))!.id).toBe('c');
    latency.set('c', 300);
    expect(latencyBased().pick(input([a, b, c], { latency }))!.id).toBe('b');
    const picks = new Set<string>();
    for (let i = 0; i < 10; i++) {
      picks.add(
        latencyBased({ lowestLatencyBuffer: 1 }).pick(input([a, b, c], { latency, random: () => i / 10 }))!
          .id,
      );
    }
    expect([...picks].sort()).toEqual(['a', 'b']);
  });
});

describe('least-busy', () => {
  it('picks the deployment with the fewest requests in flight', () => {
    const inFlight = new Map([
      ['a', 3],
      ['b', 1],
      ['c', 2],
    ]);
    expect(
      leastBusy().pick(input([deployment('a'), deployment('b'), deployment('c')], { inFlight }))!.id,
    ).toBe('b');
  });
});

describe('cost-based-routing', () => {
  it('picks the cheapest with room; unknown costs last', () => {
    const cheap = deployment('cheap', {
      info: {
        inputCostPerToken: 1e-6,
        outputCostPerToken: 2e-6,
        maxInputTokens: undefined,
        maxOutputTokens: undefined,
        priceSource: undefined,
        quality: undefined,
        mode: 'chat',
      },
      rpm: 1,
    });
    const dear = deployment('dear', {
      info: {
        inputCostPerToken: 3e-5,
        outputCostPerToken: 6e-5,
        maxInputTokens: undefined,
        maxOutputTokens: undefined,
        priceSource: undefined,
        quality: undefined,
        mode: 'chat',
      },
    });
    const unknown = deployment('unknown');
    expect(costBased().pick(input([unknown, dear, cheap]))!.id).toBe('cheap');
    const usage = new Map([['cheap', { requests: 1, tokens: 0 }]]);
    expect(costBased().pick(input([unknown, dear, cheap], { usage }))!.id).toBe('dear');
  });
});
