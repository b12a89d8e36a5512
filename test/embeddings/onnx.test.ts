import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxEncoder } from '../../src/embeddings/onnx.js';
import { ErrorCode, SemrouteError } from '../../src/errors.js';
import { tempDir } from '../helpers/encoder.js';
import { expectedEmbedding, type TinyBert, VOCAB, writeTinyBert } from '../helpers/tiny-bert.js';

let model: TinyBert;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const tmp = await tempDir();
  cleanup = tmp.cleanup;
  model = await writeTinyBert(path.join(tmp.dir, 'tiny-bert'));
});
afterAll(() => cleanup());

describe('onnx encoder', () => {
  it('tokenises with the folder tokenizer and mean-pools over the mask', async () => {
    const encoder = await OnnxEncoder.load({ dir: model.dir });
    try {
      expect(encoder.dimensions).toBe(8);
      // "Hello world!" lower-cases and splits into [CLS] hello world ! [SEP].
      const ids = ['[CLS]', 'hello', 'world', '!', '[SEP]'].map((t) => VOCAB.indexOf(t));
      const [row, padded] = await encoder.embed(['Hello world!', 'the cat sat on the mat']);
      const expected = expectedEmbedding(model, ids);
      row!.forEach((x, i) => {
        expect(x).toBeCloseTo(expected[i]!, 5);
      });
      const catIds = ['[CLS]', 'the', 'cat', 'sat', 'on', 'the', 'mat', '[SEP]'].map((t) => VOCAB.indexOf(t));
      expectedEmbedding(model, catIds).forEach((x, i) => {
        expect(padded![i]).toBeCloseTo(x, 5);
      });
    } finally {
      await encoder.close();
    }
  });

  it('works with exports that take no token_type_ids', async () => {
    const tmp = await tempDir();
    try {
      const plain = await writeTinyBert(path.join(tmp.dir, 'plain'), { tokenTypes: false });
      const encoder = await OnnxEncoder.load({ dir: plain.dir });
      const [row] = await encoder.embed(['good bye']);
      const ids = ['[CLS]', 'good', 'bye', '[SEP]'].map((t) => VOCAB.indexOf(t));
      expectedEmbedding(plain, ids, false).forEach((x, i) => {
        expect(row![i]).toBeCloseTo(x, 5);
      });
      await encoder.close();
    } finally {
      await tmp.cleanup();
    }
  });

  it('names the missing file: model, tokenizer', async () => {
    const tmp = await tempDir();
    try {
      const copy = await writeTinyBert(path.join(tmp.dir, 'broken'));
      await rm(path.join(copy.dir, 'tokenizer.json'));
      const noTokenizer = await OnnxEncoder.load({ dir: copy.dir }).catch((e: unknown) => e);
      expect((noTokenizer as SemrouteError).code).toBe(ErrorCode.TOKENIZER_MISSING);
      expect((noTokenizer as SemrouteError).file).toContain('tokenizer.json');
      await rm(path.join(copy.dir, 'model.onnx'));
      const noModel = await OnnxEncoder.load({ dir: copy.dir }).catch((e: unknown) => e);
      expect((noModel as SemrouteError).code).toBe(ErrorCode.MODEL_MISSING);
      await writeFile(path.join(copy.dir, 'model.onnx'), 'garbage');
      await writeFile(path.join(copy.dir, 'tokenizer.json'), '{}');
      const corrupt = await OnnxEncoder.load({ dir: copy.dir }).catch((e: unknown) => e);
      expect(corrupt).toBeInstanceOf(SemrouteError);
    } finally {
      await tmp.cleanup();
    }
  });
});
