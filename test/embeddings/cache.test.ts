import { describe, expect, it } from 'vitest';
import { CachedEncoder } from '../../src/embeddings/cache.js';
import { CountingEncoder, useLite } from '../helpers/encoder.js';
import { runEncoderConformance } from './encoder.case.js';

runEncoderConformance('cached use-lite', async () => new CachedEncoder(await useLite(), 100), {
  dispose: false,
});

describe('CachedEncoder', () => {
  it('embeds a repeated text once, and evicts the least recently used', async () => {
    const counting = new CountingEncoder(await useLite());
    const cache = new CachedEncoder(counting, 2);
    const [a1] = await cache.embed(['alpha']);
    const [a2] = await cache.embed(['alpha']);
    expect(a2).toBe(a1);
    expect(counting.texts).toBe(1);
    expect(cache.hits).toBe(1);
    await cache.embed(['beta']);
    await cache.embed(['alpha']); // refresh alpha: beta is now the oldest
    await cache.embed(['gamma']); // evicts beta
    expect(cache.size).toBe(2);
    const before = counting.texts;
    await cache.embed(['alpha', 'gamma']);
    expect(counting.texts).toBe(before);
    await cache.embed(['beta']);
    expect(counting.texts).toBe(before + 1);
  });

  it('sends only the misses of a mixed batch, and keeps order', async () => {
    const counting = new CountingEncoder(await useLite());
    const cache = new CachedEncoder(counting, 10);
    await cache.embed(['one', 'three']);
    counting.texts = 0;
    const rows = await cache.embed(['one', 'two', 'three']);
    expect(counting.texts).toBe(1);
    const [direct] = await (await useLite()).embed(['two']);
    expect(Array.from(rows[1]!)).toEqual(Array.from(direct!));
  });
});
