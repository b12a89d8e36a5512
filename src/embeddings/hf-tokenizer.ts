/**
 * A Hugging Face tokenizer read from a local folder (`tokenizer.json`, `tokenizer_config.json`)
 * with `@huggingface/tokenizers` (pure JS, no model hub, nothing downloaded), and the batch
 * tensors a sentence-transformers export takes: ids, attention mask and token types, padded to
 * the longest text and truncated as the Rust tokenizers truncate a single sequence (the text is
 * cut, the special tokens around it are kept).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ErrorCode, SemrouteError } from '../errors.js';

export interface TokenBatch {
  ids: BigInt64Array;
  mask: BigInt64Array;
  types: BigInt64Array;
  batch: number;
  length: number;
}

export class LocalTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    /** `model_max_length` of tokenizer_config.json, when it gives a usable one. */
    readonly modelMaxLength: number | undefined,
    private readonly padId: number,
    /** The id of the unknown token, when the tokenizer has one. */
    private readonly unkId: number | undefined,
  ) {}

  static async load(dir: string): Promise<LocalTokenizer> {
    const file = path.join(dir, 'tokenizer.json');
    try {
      const [json, config] = await Promise.all([
        readFile(file, 'utf8').then(JSON.parse),
        readFile(path.join(dir, 'tokenizer_config.json'), 'utf8').then(JSON.parse),
      ]);
      const tokenizer = new Tokenizer(json, config);
      const max = (config as { model_max_length?: unknown }).model_max_length;
      const padToken = (config as { pad_token?: unknown }).pad_token;
      const padId = typeof padToken === 'string' ? (tokenizer.token_to_id(padToken) ?? 0) : 0;
      const unkToken = (config as { unk_token?: unknown }).unk_token;
      const unkId = typeof unkToken === 'string' ? tokenizer.token_to_id(unkToken) : undefined;
      return new LocalTokenizer(
        tokenizer,
        typeof max === 'number' && Number.isFinite(max) && max > 0 ? max : undefined,
        padId,
        unkId,
      );
    } catch (cause) {
      throw new SemrouteError(
        ErrorCode.TOKENIZER_MISSING,
        `Cannot load the tokenizer in ${dir}: ${(cause as Error).message}`,
        {
          file,
          cause,
        },
      );
    }
  }

  /** The share of a text's tokens that are not the unknown token (1 when it has none). */
  coverage(text: string): number {
    if (this.unkId === undefined) return 1;
    const ids = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    if (ids.length === 0) return 1;
    return ids.filter((id: number) => id !== this.unkId).length / ids.length;
  }

  /** One text's ids with special tokens, at most `maxLength` of them. */
  encode(text: string, maxLength: number): number[] {
    const full = this.tokenizer.encode(text).ids;
    if (full.length <= maxLength) return full;
    // Keep the special tokens around the text (e.g. [CLS] … [SEP]) and cut the text itself.
    const plain = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const start = Math.max(0, full.indexOf(plain[0]!));
    const prefix = full.slice(0, start);
    const suffix = full.slice(start + plain.length);
    const room = Math.max(0, maxLength - prefix.length - suffix.length);
    return [...prefix, ...plain.slice(0, room), ...suffix];
  }

  /** Int64 tensors for a batch, padded to its longest text. */
  batch(texts: readonly string[], maxLength: number): TokenBatch {
    const rows = texts.map((t) => this.encode(t, maxLength));
    const length = Math.max(1, ...rows.map((r) => r.length));
    const ids = new BigInt64Array(rows.length * length).fill(BigInt(this.padId));
    const mask = new BigInt64Array(rows.length * length);
    rows.forEach((row, r) => {
      for (let i = 0; i < row.length; i++) {
        ids[r * length + i] = BigInt(row[i]!);
        mask[r * length + i] = 1n;
      }
    });
    return { ids, mask, types: new BigInt64Array(rows.length * length), batch: rows.length, length };
  }
}
