/**
 * Embeddings from an OpenAI-compatible `/embeddings` endpoint, through the official `openai`
 * client. Only used when configured (`encoder_type: "openai"`): semroute never falls back to it.
 * Retries on 429 and 5xx honour `retry-after-ms` / `Retry-After` (the client's own policy).
 */
import OpenAI from 'openai';
import { ErrorCode, SemrouteError, throwIfAborted } from '../errors.js';
import { assertTexts, type EmbedOptions, type Encoder, normalize } from './encoder.js';

export interface OpenAIEncoderOptions {
  /** Default `text-embedding-3-large`. */
  model?: string | undefined;
  /** Default env `OPENAI_API_KEY`; required. */
  apiKey?: string | undefined;
  /** Default env `OPENAI_BASE_URL`, else https://api.openai.com/v1. */
  baseURL?: string | undefined;
  /** Texts per request. Default 256. */
  batchSize?: number | undefined;
  /** Retries on 408/409/429/5xx and connection errors. Default 3. */
  maxRetries?: number | undefined;
  /** Per-request timeout in ms. Default 60_000 (60 s). */
  timeout?: number | undefined;
  /** Output dimensions for models that accept `dimensions` (text-embedding-3-*). */
  dimensions?: number | undefined;
  /** Injected fetch (tests, proxies). Default the global fetch. */
  fetch?: typeof fetch | undefined;
}

const KNOWN_DIMENSIONS: Record<string, number> = {
  'text-embedding-3-large': 3072,
  'text-embedding-3-small': 1536,
  'text-embedding-ada-002': 1536,
};

export class OpenAIEncoder implements Encoder {
  readonly id: string;
  readonly dimensions: number;
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly batchSize: number;
  private readonly requestDimensions: number | undefined;

  private constructor(options: OpenAIEncoderOptions, dimensions: number, client: OpenAI) {
    this.model = options.model ?? 'text-embedding-3-large';
    this.batchSize = options.batchSize ?? 256;
    this.requestDimensions = options.dimensions;
    this.dimensions = dimensions;
    this.client = client;
    // Another server under the same model name (a local one, a proxy) is another encoder: its
    // vectors must not be read from the cache of OpenAI's.
    const host = new URL(client.baseURL).host;
    this.id = `openai:${this.model}${options.dimensions ? `@${options.dimensions}` : ''}${host === 'api.openai.com' ? '' : ` via ${host}`}`;
  }

  static async load(options: OpenAIEncoderOptions = {}): Promise<OpenAIEncoder> {
    const apiKey = options.apiKey ?? process.env.OPENAI_API_KEY;
    if (!apiKey) {
      throw new SemrouteError(
        ErrorCode.ENCODER_NO_KEY,
        'The openai encoder needs an API key: set encoder_options.api_key in router.json or the OPENAI_API_KEY environment variable',
        { path: 'encoder_options.api_key', expected: 'an API key (or env OPENAI_API_KEY)' },
      );
    }
    const client = new OpenAI({
      apiKey,
      baseURL: options.baseURL ?? process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1',
      maxRetries: options.maxRetries ?? 3,
      timeout: options.timeout ?? 60_000,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const model = options.model ?? 'text-embedding-3-large';
    let dimensions = options.dimensions ?? KNOWN_DIMENSIONS[model];
    const probe = new OpenAIEncoder(options, dimensions ?? 0, client);
    if (dimensions === undefined) {
      // Unknown model: one call tells its width.
      const [row] = await probe.request(['probe'], undefined);
      dimensions = row!.length;
      return new OpenAIEncoder(options, dimensions, client);
    }
    return probe;
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    assertTexts(texts);
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      throwIfAborted(options.signal);
      const rows = await this.request(texts.slice(start, start + this.batchSize), options.signal);
      for (const row of rows) {
        if (this.dimensions !== 0 && row.length !== this.dimensions) {
          throw new SemrouteError(
            ErrorCode.MODEL_DIMENSION,
            `${this.model} returned ${row.length} dimensions, expected ${this.dimensions}`,
            { expected: String(this.dimensions) },
          );
        }
        out.push(row);
      }
      options.onProgress?.(out.length, texts.length);
    }
    return out;
  }

  private async request(texts: readonly string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    // The API rejects empty strings; a single space embeds as "nothing" and keeps the row.
    const input = texts.map((t) => (t.length === 0 ? ' ' : t));
    let response: OpenAI.Embeddings.CreateEmbeddingResponse;
    // The client gets a signal of its own, tied to the caller's only for this call: it never
    // removes its listener, and a caller's signal may outlive many calls (the proxy's lives as
    // long as the client's connection).
    const call = signal ? new AbortController() : undefined;
    const onAbort = () => call?.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    try {
      response = await this.client.embeddings.create(
        {
          model: this.model,
          input,
          encoding_format: 'float',
          ...(this.requestDimensions ? { dimensions: this.requestDimensions } : {}),
        },
        call ? { signal: call.signal } : undefined,
      );
    } catch (cause) {
      if (signal?.aborted) throw new SemrouteError(ErrorCode.ABORTED, 'Embedding request aborted', { cause });
      const status = (cause as { status?: number }).status;
      throw new SemrouteError(
        ErrorCode.ENCODER_REMOTE,
        `Embedding request to ${this.client.baseURL} failed${status ? ` with HTTP ${status}` : ''}: ${(cause as Error).message}`,
        { cause, details: { status } },
      );
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const rows = new Array<Float32Array>(texts.length);
    for (const item of response.data) rows[item.index] = normalize(Float32Array.from(item.embedding));
    if (rows.some((r) => r === undefined) || response.data.length !== texts.length) {
      throw new SemrouteError(
        ErrorCode.ENCODER_REMOTE,
        `Embedding response had ${response.data.length} rows for ${texts.length} texts`,
      );
    }
    return rows;
  }

  async close(): Promise<void> {}
}
