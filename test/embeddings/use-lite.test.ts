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
      // About half the bytes: int8 dense weights, fp32 embedding table.
      expect(first.manifest.int8.bytes).toBeLessThan(first.manifest.bytes * 0.6);
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

  it('rejects a bad thread count clearly', async () => {
    const error = await UseLiteEncoder.load({ threads: 0 }).catch((e: unknown) => e);
    expect((error as SemrouteError).code).toBe(ErrorCode.INPUT_INVALID);
  });
});
