/**
 * Every store of `STATE_STORES` runs the conformance suite, built the way the proxy builds it
 * (from a config). A store added to the map without a fixture here fails the first test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../../src/config/gateway-schema.js';
import { STATE_STORES, storeKind } from '../../../src/gateway/state/create.js';
import type { FailoverStateStore } from '../../../src/gateway/state/failover.js';
import { CONVERSATIONS_PER_CALLER, type StateStore } from '../../../src/gateway/state/state-store.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { runStateStoreConformance } from './state-store.case.js';

let redis: TestRedis;
let counter = 0;
const opened: StateStore[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await redis.close();
});

const quiet = { warn: () => {}, info: () => {} };
const modelList = [{ model_name: 'g', litellm_params: { model: 'openai/m' } }];

/** The settings each kind is built from, as a config.yaml would give them. */
const FIXTURES: Record<string, () => Record<string, unknown>> = {
  memory: () => ({}),
  redis: () => ({ redis_url: redis.url, redis_key_prefix: `conformance${++counter}:` }),
};

/** Waits until a shared store is connected, so the suite tests it and not its local failover. */
async function connected(store: StateStore): Promise<void> {
  const shared = (store as Partial<FailoverStateStore>).shared;
  if (shared === undefined) return;
  const deadline = Date.now() + 10_000;
  while (!shared.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(shared.ready).toBe(true);
}

describe('state stores', () => {
  it('has a conformance fixture for every kind in STATE_STORES, and configs pick their kind', () => {
    expect(Object.keys(FIXTURES).sort()).toEqual(Object.keys(STATE_STORES).sort());
    expect(storeKind(parseGatewayConfig({ model_list: modelList }))).toBe('memory');
    expect(storeKind(parseGatewayConfig({ model_list: modelList, redis_host: 'h' }))).toBe('redis');
  });
});

for (const [kind, factory] of Object.entries(STATE_STORES)) {
  runStateStoreConformance(kind, async () => {
    let offset = 0;
    const clock = () => Date.now() + offset;
    const config = parseGatewayConfig({ model_list: modelList, ...(FIXTURES[kind]?.() ?? {}) });
    const store = factory(config, quiet, clock);
    opened.push(store);
    await connected(store);
    return {
      store,
      quota: CONVERSATIONS_PER_CALLER,
      advance: async (ms: number) => {
        offset += ms;
      },
    };
  });
}
