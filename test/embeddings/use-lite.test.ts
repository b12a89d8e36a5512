import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { UseLiteEncoder } from '../../src/embeddings/use-lite/encoder.js';
import { ensureUseLiteModel, useLiteFiles } from '../../src/embeddings/use-lite/model-files.js';
import { UseLiteTokenizer } from '../../src/embeddings/use-lite/tokenizer.js';
import { ErrorCode, SemrouteError } from '../../src/errors.js';
import { tempDir } from '../helpers/encoder.js';

const { sentences } = JSON.parse(
  await readFile(new URL('../fixtures/parity-sentences.json', import.meta.url), 'utf8'),
) as { sentences: string[] };

describe('USE-lite model files', () => {
  it('builds into an empty models folder, then reuses it, and rebuilds when the source version changes', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const first = await ensureUseLiteModel({ root: dir });
      expect(first.built).toBe(true);
      expect(first.manifest.bytes).toBe((await stat(first.files.model)).size);
      expect(first.manifest.int8.bytes).toBe((await stat(first.files.modelInt8)).size);
      expect(first.manifest.weights.bytes).toBe((await stat(first.files.weights)).size);
      expect(first.manifest.tokenizer.bytes).toBe((await stat(first.files.tokenizer)).size);
      // The model files hold the graph and small constants; every large tensor is in weights.bin,
      // which the two models share: less than the two models' bytes together.
      expect(first.manifest.bytes).toBeLessThan(200_000);
      expect(first.manifest.int8.bytes).toBeLessThan(200_000);
      expect(first.manifest.weights.bytes).toBeLessThan(
        first.manifest.totalBytes + first.manifest.int8.totalBytes - 10e6,
      );
      expect(first.manifest.weights.bytes).toBeGreaterThanOrEqual(
        first.manifest.totalBytes - first.manifest.bytes,
      );
      // Two thirds of the bytes: int8 feed-forward weights; the embedding table, attention and
      // tanh layers stay fp32 (convert.ts, quantisedLayer).
      expect(first.manifest.int8.totalBytes).toBeLessThan(first.manifest.totalBytes * 0.7);
      expect(first.manifest.int8.totalBytes).toBeGreaterThan(first.manifest.totalBytes * 0.6);
      // The build stores the fp32 vectors every int8 load checks itself against.
      expect(first.manifest.probe.fp32).toHaveLength(first.manifest.probe.texts.length);
      const second = await ensureUseLiteModel({ root: dir });
      expect(second.built).toBe(false);
      // A manifest from another source version marks the model stale.
      const manifest = JSON.parse(await readFile(first.files.manifest, 'utf8'));
      manifest.source.version = '0.0.1';
      await writeFile(first.files.manifest, JSON.stringify(manifest));
      const third = await ensureUseLiteModel({ root: dir });
      expect(third.built).toBe(true);
      const encoder = await UseLiteEncoder.load({ modelsDir: dir });
      expect(encoder.id).toMatch(/^use-lite-int8@0\.2\./);
      await encoder.close();
      // A missing int8 file alone marks the model stale too, and so does a missing weights or
      // tokenizer file.
      await rm(first.files.modelInt8);
      expect((await ensureUseLiteModel({ root: dir })).built).toBe(true);
      await rm(first.files.weights);
      expect((await ensureUseLiteModel({ root: dir })).built).toBe(true);
      await rm(first.files.tokenizer);
      expect((await ensureUseLiteModel({ root: dir })).built).toBe(true);
      expect((await ensureUseLiteModel({ root: dir })).built).toBe(false);
    } finally {
      await cleanup();
    }
  });

  it('fails with MODEL_MISSING when the model file is absent and building is off', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const error = await UseLiteEncoder.load({ modelsDir: dir, build: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SemrouteError);
      expect([ErrorCode.TOKENIZER_MISSING, ErrorCode.MODEL_MISSING]).toContain((error as SemrouteError).code);
    } finally {
      await cleanup();
    }
  });

  it.each(['int8', 'fp32'] as const)(
    'fails with MODEL_CORRUPT on a damaged model file (%s)',
    async (precision) => {
      const { dir, cleanup } = await tempDir();
      try {
        const { files } = await ensureUseLiteModel({ root: dir });
        const file = precision === 'int8' ? files.modelInt8 : files.model;
        await writeFile(file, 'not a protobuf');
        const error = await UseLiteEncoder.load({ modelsDir: dir, build: false, precision }).catch(
          (e: unknown) => e,
        );
        expect((error as SemrouteError).code).toBe(ErrorCode.MODEL_CORRUPT);
        expect((error as SemrouteError).file).toBe(file);
      } finally {
        await cleanup();
      }
    },
  );

  it('falls back to fp32 with one warning when int8 drifts from the stored fp32 probe', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const { files, manifest } = await ensureUseLiteModel({ root: dir });
      const healthy = await UseLiteEncoder.load({ modelsDir: dir, build: false });
      expect(healthy.precision).toMatchObject({ requested: 'int8', active: 'int8' });
      expect(healthy.precision.probeCosine).toBeGreaterThanOrEqual(0.999);
      await healthy.close();
      // What a CPU computing int8 otherwise looks like to the check: its vectors no longer match
      // the stored fp32 ones. Turning one stored row a little away from itself forces it.
      const row = manifest.probe.fp32[1]!;
      manifest.probe.fp32[1] = row.map((v, d) => (d < 40 ? -v : v));
      await writeFile(files.manifest, JSON.stringify(manifest));
      const warnings: string[] = [];
      const drifted = await UseLiteEncoder.load({
        modelsDir: dir,
        build: false,
        onWarning: (m) => warnings.push(m),
      });
      expect(drifted.precision).toMatchObject({ requested: 'int8', active: 'fp32' });
      expect(drifted.precision.probeCosine).toBeLessThan(0.999);
      expect(drifted.id).toMatch(/^use-lite@/);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/int8 drifts from fp32 on this CPU \(probe cosine 0\.\d+ < 0\.999\).*fp32/);
      // It really runs the fp32 model: the same vectors as asking for fp32.
      const fp32 = await UseLiteEncoder.load({ modelsDir: dir, build: false, precision: 'fp32' });
      const [a, b] = await Promise.all([drifted.embed(['hello there']), fp32.embed(['hello there'])]);
      expect(Array.from(a[0]!)).toEqual(Array.from(b[0]!));
      expect(fp32.precision).toMatchObject({ requested: 'fp32', active: 'fp32' });
      await Promise.all([drifted.close(), fp32.close()]);
      // A manifest without the probe cannot vouch for int8: fp32 again, saying why.
      delete (manifest as Partial<typeof manifest>).probe;
      await writeFile(files.manifest, JSON.stringify(manifest));
      const unchecked = await UseLiteEncoder.load({
        modelsDir: dir,
        build: false,
        onWarning: (m) => warnings.push(m),
      });
      expect(unchecked.precision.active).toBe('fp32');
      expect(warnings[1]).toMatch(/no fp32 probe/);
      await unchecked.close();
    } finally {
      await cleanup();
    }
  });

  it('rejects a bad thread count clearly', async () => {
    const error = await UseLiteEncoder.load({ threads: 0 }).catch((e: unknown) => e);
    expect((error as SemrouteError).code).toBe(ErrorCode.INPUT_INVALID);
  });

  it('builds the same bytes twice: the weights file layout does not depend on timing', async () => {
    const [a, b] = await Promise.all([tempDir(), tempDir()]);
    try {
      const [first, second] = [
        await ensureUseLiteModel({ root: a.dir }),
        await ensureUseLiteModel({ root: b.dir }),
      ];
      expect(second.manifest.weights.sha256).toBe(first.manifest.weights.sha256);
      expect(second.manifest.sha256).toBe(first.manifest.sha256);
      expect(second.manifest.int8.sha256).toBe(first.manifest.int8.sha256);
      expect(second.manifest.tokenizer.sha256).toBe(first.manifest.tokenizer.sha256);
    } finally {
      await Promise.all([a.cleanup(), b.cleanup()]);
    }
  });

  it('fails with TOKENIZER_MISSING, naming the file, when tokenizer.bin is missing or damaged', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const { files } = await ensureUseLiteModel({ root: dir });
      const good = await readFile(files.tokenizer);
      const damaged: Array<[string, Uint8Array]> = [
        ['too short', good.subarray(0, 10)],
        ['wrong magic', Buffer.concat([Buffer.from('XXXX'), good.subarray(4)])],
        ['bytes, header says', good.subarray(0, good.length - 4)],
      ];
      for (const [why, bytes] of damaged) {
        await writeFile(files.tokenizer, bytes);
        const error = await UseLiteEncoder.load({ modelsDir: dir, build: false }).catch((e: unknown) => e);
        expect((error as SemrouteError).code, why).toBe(ErrorCode.TOKENIZER_MISSING);
        expect((error as SemrouteError).file).toBe(files.tokenizer);
        expect((error as Error).message).toContain(why);
      }
      await rm(files.tokenizer);
      const missing = await UseLiteEncoder.load({ modelsDir: dir, build: false }).catch((e: unknown) => e);
      expect((missing as SemrouteError).code).toBe(ErrorCode.TOKENIZER_MISSING);
      expect((missing as Error).message).toContain('models build');
    } finally {
      await cleanup();
    }
  });
});

describe('the USE-lite tokenizer in its binary form', () => {
  it('gives the ids and coverage of the tokenizer built from vocab.json, on every parity sentence', async () => {
    const files = useLiteFiles();
    const fromJson = UseLiteTokenizer.fromVocabulary(JSON.parse(await readFile(files.vocabulary, 'utf8')));
    const fromFile = UseLiteTokenizer.fromBinary(await readFile(files.tokenizer), files.tokenizer);
    const again = UseLiteTokenizer.fromBinary(fromJson.toBinary(), 'memory');
    const texts = [
      ...sentences,
      '',
      ' ',
      'ÅÉÎõü ß ﬁ ｈｅｌｌｏ',
      '🙂 emoji 🚀',
      'x'.repeat(600),
      '\u0000 control \t chars',
    ];
    expect(fromFile.vocabularySize).toBe(fromJson.vocabularySize);
    for (const text of texts) {
      const ids = fromJson.encode(text);
      expect(fromFile.encode(text), text).toEqual(ids);
      expect(again.encode(text), text).toEqual(ids);
      expect(fromFile.coverage(text), text).toBe(fromJson.coverage(text));
    }
    expect(Buffer.compare(fromJson.toBinary(), await readFile(files.tokenizer))).toBe(0);
  });
});
