import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../../../src/gateway/state/memory.js';

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

describe('MemoryStateStore', () => {
  it('never holds more sticky sessions than its capacity, and drops expired ones as new ones come', async () => {
    let offset = 0;
    const store = new MemoryStateStore(() => Date.now() + offset, 10, 5);
    for (let i = 0; i < 8; i++) await store.setSticky(`s${i}`, 'm', 60_000);
    expect(store.stickySize).toBe(5);
    expect(await store.getSticky('s0')).toBeUndefined();
    expect(await store.getSticky('s7')).toBe('m');
    offset += 61_000;
    await store.setSticky('fresh', 'm', 60_000);
    expect(store.stickySize).toBe(1);
  });

  it('evicts the least recently used cache entry past capacity', async () => {
    const { store } = harness();
    for (const k of ['a', 'b', 'c']) await store.setCached(k, k, 60_000);
    await store.getCached('a');
    await store.setCached('d', 'd', 60_000);
    expect(await store.getCached('b')).toBeUndefined();
    expect(await store.getCached('a')).toBe('a');
  });
});
