import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { UseLiteEncoder } from '../../src/embeddings/use-lite/encoder.js';
import { ensureUseLiteModel } from '../../src/embeddings/use-lite/model-files.js';
import { ErrorCode, SemrouteError } from '../../src/errors.js';
import { tempDir } from '../helpers/encoder.js';

describe('USE-lite model files', () => {
  it('builds into an empty models folder, then reuses it, and rebuilds when the source version changes', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const first = await ensureUseLiteModel({ root: dir });
      expect(first.built).toBe(true);
      expect(first.manifest.bytes).toBe((await stat(first.files.model)).size);
      expect(first.manifest.int8.bytes).toBe((await stat(first.files.modelInt8)).size);
      // Two thirds of the bytes: int8 feed-forward weights; the embedding table, attention and
      // tanh layers stay fp32 (convert.ts, quantisedLayer).
      expect(first.manifest.int8.bytes).toBeLessThan(first.manifest.bytes * 0.7);
      expect(first.manifest.int8.bytes).toBeGreaterThan(first.manifest.bytes * 0.6);
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
      // A missing int8 file alone marks the model stale too.
      await rm(first.files.modelInt8);
      expect((await ensureUseLiteModel({ root: dir })).built).toBe(true);
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
});
