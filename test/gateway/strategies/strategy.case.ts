/** The shared suite every BalancingStrategy passes. */
import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/gateway/deployment.js';
import type { Usage } from '../../../src/gateway/state/state-store.js';
import type { BalancingStrategy, StrategyInput } from '../../../src/gateway/strategies/strategy.js';

export function deployment(id: string, extra: Partial<Deployment> = {}): Deployment {
  return {
    id,
    group: 'g',
    model: id,
    target: undefined,
    info: {
      inputCostPerToken: undefined,
      outputCostPerToken: undefined,
      maxInputTokens: undefined,
      maxOutputTokens: undefined,
      priceSource: undefined,
      quality: undefined,
      mode: 'chat',
    },
    tpm: undefined,
    rpm: undefined,
    weight: undefined,
    order: undefined,
    cooldownTime: undefined,
    timeoutMs: undefined,
    streamTimeoutMs: undefined,
    tags: [],
    defaults: {},
    extraBody: undefined,
    dropParams: undefined,
    alwaysDrop: [],
    forwardHeaders: new Set(),
    ...extra,
  };
}

export function input(candidates: Deployment[], extra: Partial<StrategyInput> = {}): StrategyInput {
  let s = 12345;
  return {
    candidates,
    estimatedTokens: 10,
    usage: new Map<string, Usage>(),
    latency: new Map(),
    inFlight: new Map(),
    random: () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 4294967296;
    },
    ...extra,
  };
}

export function runStrategyConformance(create: () => BalancingStrategy): void {
  const strategy = create();
  describe(`BalancingStrategy conformance: ${strategy.name}`, () => {
    it('picks one of the candidates, and the only one when there is one', () => {
      const only = deployment('a');
      expect(strategy.pick(input([only]))).toBe(only);
      const many = [deployment('a'), deployment('b'), deployment('c')];
      for (let i = 0; i < 50; i++)
        expect(many).toContain(strategy.pick(input(many, { random: () => (i % 10) / 10 })));
    });

    it('is deterministic for the same input and randomness', () => {
      const many = [deployment('a'), deployment('b'), deployment('c')];
      const a = strategy.pick(input(many));
      const b = strategy.pick(input(many));
      expect(a?.id).toBe(b?.id);
    });

    it('spreads load over equal deployments', () => {
      const many = [deployment('a'), deployment('b')];
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++)
        seen.add(strategy.pick(input(many, { random: () => (i % 10) / 10 + 0.05 }))!.id);
      expect(seen.size).toBe(2);
    });

    it('declares the state it reads', () => {
      expect(typeof strategy.needs).toBe('object');
    });
  });
}
