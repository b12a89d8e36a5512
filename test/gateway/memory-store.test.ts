import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../../src/gateway/state/memory.js';
import { runStateStoreConformance } from './state-store.case.js';

function harness() {
  let offset = 0;
  const store = new MemoryStateStore(() => Date.now() + offset, 3);
  return {
    store,
    advance: async (ms: number) => {
      offset += ms;
    },
  };
}

runStateStoreConformance('memory', async () => harness());

describe('MemoryStateStore', () => {
  it('evicts the least recently used cache entry past capacity', async () => {
    const { store } = harness();
    for (const k of ['a', 'b', 'c']) await store.setCached(k, k, 60_000);
    await store.getCached('a');
    await store.setCached('d', 'd', 60_000);
    expect(await store.getCached('b')).toBeUndefined();
    expect(await store.getCached('a')).toBe('a');
  });
});
