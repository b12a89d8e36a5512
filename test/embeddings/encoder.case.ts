/**
 * The conformance suite every Encoder passes. Each implementation's test file calls
 * `runEncoderConformance` with a factory; see use-lite, onnx, openai and cache tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Encoder } from '../../src/embeddings/encoder.js';
import { ErrorCode, SemrouteError } from '../../src/errors.js';

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

export function runEncoderConformance(
  name: string,
  create: () => Promise<Encoder>,
  options: { semantic?: boolean; dispose?: boolean } = {},
): void {
  describe(`Encoder conformance: ${name}`, () => {
    let encoder: Encoder;
    beforeAll(async () => {
      encoder = await create();
    });
    afterAll(async () => {
      if (options.dispose !== false) await encoder?.close();
    });

    it('has an id and a positive dimension', () => {
      expect(encoder.id).toMatch(/\S/);
      expect(encoder.dimensions).toBeGreaterThan(0);
    });

    it('returns nothing for no texts', async () => {
      expect(await encoder.embed([])).toEqual([]);
    });

    it('returns one unit-length row per text, of the declared width', async () => {
      const rows = await encoder.embed(['the cat sat on the mat', 'hello world', '']);
      expect(rows).toHaveLength(3);
      for (const row of rows) {
        expect(row).toBeInstanceOf(Float32Array);
        expect(row.length).toBe(encoder.dimensions);
        expect(norm(row)).toBeCloseTo(1, 4);
      }
    });

    it('keeps input order and is deterministic', async () => {
      const [a, b] = await encoder.embed(['hello world', 'the dog run']);
      const [b2, a2] = await encoder.embed(['the dog run', 'hello world']);
      expect(cosine(a!, a2!)).toBeCloseTo(1, 5);
      expect(cosine(b!, b2!)).toBeCloseTo(1, 5);
      expect(cosine(a!, b!)).toBeLessThan(0.9999);
    });

    it('embeds more texts than one batch holds', async () => {
      const texts = Array.from(
        { length: 70 },
        (_, i) => `the cat sat on the mat ${i % 7 === 0 ? 'hello' : 'world'}`,
      );
      const rows = await encoder.embed(texts);
      expect(rows).toHaveLength(70);
      expect(cosine(rows[0]!, rows[7]!)).toBeCloseTo(1, 5);
    });

    it('rejects a non-string text with INPUT_INVALID, naming its position', async () => {
      const error = await encoder.embed(['ok', 42 as unknown as string]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SemrouteError);
      expect((error as SemrouteError).code).toBe(ErrorCode.INPUT_INVALID);
      expect((error as SemrouteError).path).toBe('[1]');
      const notArray = await encoder.embed('text' as unknown as string[]).catch((e: unknown) => e);
      expect((notArray as SemrouteError).code).toBe(ErrorCode.INPUT_INVALID);
    });

    it('stops when the signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      const error = await encoder.embed(['hello'], { signal: controller.signal }).catch((e: unknown) => e);
      expect((error as SemrouteError).code).toBe(ErrorCode.ABORTED);
    });

    if (options.semantic) {
      it('scores paraphrases above unrelated text', async () => {
        const [q, para, other] = await encoder.embed([
          'how do I reverse a list in python',
          'reverse a python list',
          'what will the weather be tomorrow',
        ]);
        expect(cosine(q!, para!)).toBeGreaterThan(cosine(q!, other!) + 0.1);
      });
    }
  });
}
