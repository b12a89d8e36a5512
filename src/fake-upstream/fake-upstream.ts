/**
 * A fake OpenAI-compatible upstream for tests and benchmarks: real HTTP on 127.0.0.1, answers
 * scripted per request (status, headers, latency, connection reset). Served under OpenAI's paths
 * (`/v1/...`) and Azure OpenAI's (`/openai/deployments/<deployment>/...?api-version=`).
 * Embeddings are deterministic sums of per-word pseudo-vectors (equal texts, equal vectors; texts
 * sharing words, close vectors), as
 * float arrays or base64 (`encoding_format`, the official SDK's default), as wide as the asked
 * model's real ones where known.
 */
import { createHash } from 'node:crypto';
import { fakeRelevance } from './relevance.js';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { registerAnthropic } from './fake-anthropic.js';

export interface ScriptStep {
  /** HTTP status to answer with (default 200 with a normal body). */
  status?: number;
  headers?: Record<string, string>;
  /** Delay before answering, in ms. */
  delayMs?: number;
  /** Destroy the socket instead of answering. */
  reset?: boolean;
  /** Error body for non-2xx answers. */
  body?: unknown;
  /** Answer 400 with OpenAI's context_length_exceeded error. */
  contextLength?: boolean;
  /** For streams: destroy the socket after this many chunks. */
  cutAfterChunks?: number;
  /** For streams: pause between chunks, ms (lets a cut land after content reached the caller). */
  chunkDelayMs?: number;
  /** Delay before the first streamed byte (slow first byte), ms. */
  firstByteDelayMs?: number;
  /**
   * For streams: send about this many bytes of content chunks, as fast as the connection takes
   * them (waiting for it to drain, as a real server does), counted in `bytesStreamed`.
   */
  streamBytes?: number;
  /** Answer a plain request with a JSON body this many bytes long. */
  answerBytes?: number;
}

export interface UpstreamBehaviour {
  /** Added to every answer, ms. Default 0. */
  latencyMs?: number;
  /** Share of requests (0–1) answered 500, decided by a seeded generator. Default 0. */
  failRate?: number;
  /** Status used for those failures. Default 500. */
  failStatus?: number;
  /** Chunks a streamed answer is split into. Default 4. */
  streamChunks?: number;
  /** A mix of faults drawn per request by the seeded generator; probabilities sum to at most 1. */
  faults?: FaultMix | undefined;
  seed?: number;
  /**
   * The content of a chat answer, from the last user message's text and the model asked for
   * (default `echo: <text>`): a test's graded model or judge.
   */
  reply?: ((text: string, model: string) => string) | undefined;
}

export interface FaultMix {
  /** 500 Internal Server Error. */
  status500?: number;
  /** 429 with `retry-after-ms`. */
  status429?: number;
  /** The socket is destroyed before any answer. */
  reset?: number;
  /** No answer for `timeoutMs` (longer than the caller's timeout). */
  timeout?: number;
  /** Streams: cut after three chunks (content already sent); plain requests: reset. */
  cut?: number;
  /** The first byte waits `slowFirstByteMs`, then a normal answer. */
  slowFirstByte?: number;
  timeoutMs?: number;
  slowFirstByteMs?: number;
  retryAfterMs?: number;
}

export type FaultKind = 'status500' | 'status429' | 'reset' | 'timeout' | 'cut' | 'slowFirstByte';
const FAULT_KINDS: readonly FaultKind[] = [
  'status500',
  'status429',
  'reset',
  'timeout',
  'cut',
  'slowFirstByte',
];

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface FakeUpstream {
  url: string;
  app: FastifyInstance;
  /** The last 1,000 requests (a soak must not grow the heap it measures). */
  requests: RecordedRequest[];
  /** Requests received, scripted failures included. */
  readonly attempts: number;
  /** Faults injected from the `faults` mix, by kind. */
  readonly faultsInjected: Record<FaultKind, number>;
  /** Bytes of `streamBytes` streams the connection has taken so far. */
  readonly bytesStreamed: number;
  /** Queues steps consumed one per request; when empty, requests follow the behaviour. */
  script(steps: ScriptStep[]): void;
  /** Changes the default behaviour (latency, failure rate …) from now on. */
  behave(changes: UpstreamBehaviour): void;
  close(): Promise<void>;
}

/** Widths of OpenAI's embedding models; other models get the upstream's `embeddingDim` (default 64). */
const MODEL_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-large': 3072,
  'text-embedding-3-small': 1536,
  'text-embedding-ada-002': 1536,
};

/** A vector as OpenAI sends it with `encoding_format: base64`: little-endian float32 bytes. */
export function base64Embedding(vector: readonly number[]): string {
  return Buffer.from(Float32Array.from(vector).buffer).toString('base64');
}

/** A deterministic pseudo-random vector of a string. */
function hashVector(text: string, dimensions: number): number[] {
  const out = new Array<number>(dimensions);
  let seed = createHash('sha256').update(text).digest();
  for (let i = 0; i < dimensions; i++) {
    if (i % 32 === 0 && i > 0) seed = createHash('sha256').update(seed).digest();
    out[i] = (seed[i % 32]! - 127.5) / 127.5;
  }
  return out;
}

/**
 * A unit vector of a text that behaves a little like a real embedding: the sum of one
 * pseudo-random vector per word, so texts that share words are close (a semantic router in
 * front of this upstream routes paraphrases by word overlap) and equal texts are equal.
 */
export function pseudoEmbedding(text: string, dimensions: number): number[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [text];
  const sum = new Array<number>(dimensions).fill(0);
  for (const word of words) {
    const v = hashVector(word, dimensions);
    for (let i = 0; i < dimensions; i++) sum[i]! += v[i]!;
  }
  const norm = Math.hypot(...sum) || 1;
  return sum.map((x) => x / norm);
}

export interface FakeUpstreamOptions extends UpstreamBehaviour {
  /** Address it listens on. Default 127.0.0.1. */
  host?: string | undefined;
  /** Keys it accepts; others get OpenAI's 401 (which quotes the key). Default: any key. */
  apiKeys?: readonly string[] | undefined;
  /** Models it serves; others get OpenAI's 404 `model_not_found`. Default: any model. */
  models?: readonly string[] | undefined;
  /**
   * Width of every embedding, whatever the model (`--embedding-dim`). Default: the asked model's
   * real width where known (3072 for text-embedding-3-large), else 64.
   */
  dimensions?: number | undefined;
  port?: number | undefined;
  /**
   * Also speak Anthropic's Messages API (`POST /v1/messages`, `/v1/messages/count_tokens`), as
   * fake-anthropic.ts does: an Anthropic deployment pointed here is answered, not 404ed.
   */
  anthropic?: boolean | undefined;
  /** Told of every request (method, path, model): `semroute fake-upstream` logs them. */
  onRequest?: ((request: { method: string; path: string; model: string | undefined }) => void) | undefined;
}

export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const widthOf = (model: string) => options.dimensions ?? MODEL_DIMENSIONS[model] ?? 64;
  const behaviour: UpstreamBehaviour = { ...options };
  let seed = options.seed ?? 42;
  const random = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 4294967296;
  };
  const steps = new WeakMap<object, ScriptStep>();
  // close() severs every connection, stalled fault requests included: a test never waits on them.
  const app = Fastify({ logger: false, forceCloseConnections: true });
  if (options.onRequest !== undefined) {
    const tell = options.onRequest;
    app.addHook('preHandler', (request, _reply, done) => {
      const model = (request.body as { model?: unknown } | undefined)?.model;
      tell({
        method: request.method,
        path: request.url.split('?')[0]!,
        model: typeof model === 'string' ? model : undefined,
      });
      done();
    });
  }
  if (options.anthropic) registerAnthropic(app, { listModels: false, apiKeys: options.apiKeys });
  const queue: ScriptStep[] = [];
  const requests: RecordedRequest[] = [];
  const record = (r: RecordedRequest) => {
    requests.push(r);
    if (requests.length > 1000) requests.splice(0, requests.length - 1000);
  };
  let attempts = 0;
  let bytesStreamed = 0;

  const faultsInjected = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const drawFault = (stream: boolean): ScriptStep | undefined => {
    const mix = behaviour.faults;
    if (mix === undefined) return undefined;
    let r = random();
    for (const kind of FAULT_KINDS) {
      r -= mix[kind] ?? 0;
      if (r >= 0) continue;
      faultsInjected[kind]++;
      switch (kind) {
        case 'status500':
          return { status: 500 };
        case 'status429':
          return { status: 429, headers: { 'retry-after-ms': String(mix.retryAfterMs ?? 50) } };
        case 'reset':
          return { reset: true };
        case 'timeout':
          return { delayMs: mix.timeoutMs ?? 30_000 };
        case 'cut':
          return stream ? { cutAfterChunks: 3, chunkDelayMs: 20 } : { reset: true };
        case 'slowFirstByte':
          return stream
            ? { firstByteDelayMs: mix.slowFirstByteMs ?? 300 }
            : { delayMs: mix.slowFirstByteMs ?? 300 };
      }
    }
    return undefined;
  };

  // As OpenAI answers a wrong key and an unknown model (before any scripted behaviour).
  app.addHook('preHandler', async (request, reply) => {
    const sent =
      (request.headers.authorization ?? '').replace(/^Bearer /i, '') ||
      String(request.headers['api-key'] ?? '');
    if (options.apiKeys !== undefined && !options.apiKeys.includes(sent)) {
      attempts++;
      record({ method: request.method, url: request.url, headers: request.headers, body: request.body });
      return reply.code(401).send({
        error: {
          message: `Incorrect API key provided: ${sent}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      });
    }
    const model =
      (request.params as { deployment?: string }).deployment ??
      (request.body as { model?: unknown } | undefined)?.model;
    if (options.models !== undefined && typeof model === 'string' && !options.models.includes(model)) {
      attempts++;
      record({ method: request.method, url: request.url, headers: request.headers, body: request.body });
      return reply.code(404).send({
        error: {
          message: `The model \`${model}\` does not exist or you do not have access to it.`,
          type: 'invalid_request_error',
          param: null,
          code: 'model_not_found',
        },
      });
    }
  });

  // preHandler, not onRequest: the fault mix needs the parsed body (streamed or not).
  app.addHook('preHandler', async (request, reply) => {
    if (reply.sent) return;
    attempts++;
    let step = queue.shift();
    if (step === undefined && behaviour.failRate && random() < behaviour.failRate)
      step = { status: behaviour.failStatus ?? 500 };
    step ??= drawFault((request.body as { stream?: unknown } | undefined)?.stream === true);
    const delay = (behaviour.latencyMs ?? 0) + (step?.delayMs ?? 0);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (step === undefined) return;
    steps.set(request.raw, step);
    if (step.contextLength) {
      reply.code(400);
      return reply.send({
        error: {
          message:
            "This model's maximum context length is 128 tokens. However, your messages resulted in 4000 tokens.",
          type: 'invalid_request_error',
          param: 'messages',
          code: 'context_length_exceeded',
        },
      });
    }
    if (step.reset) {
      request.raw.socket.destroy();
      return reply;
    }
    if (step.status !== undefined && step.status !== 200) {
      reply.code(step.status).headers(step.headers ?? {});
      // Like OpenAI, a 401 quotes the key it was sent: the proxy must not pass that on.
      const sent = (request.headers.authorization ?? '').replace(/^Bearer /, '');
      const message = step.status === 401 ? `Incorrect API key provided: ${sent}` : `scripted ${step.status}`;
      return reply.send(step.body ?? { error: { message, type: 'fake_error', code: null } });
    }
    if (step.headers) reply.headers(step.headers);
  });

  /** OpenAI's path and Azure's for the same operation; Azure names the model by its deployment. */
  const both = (
    operation: string,
    handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
  ) => {
    app.post(`/v1/${operation}`, handler);
    app.post(`/openai/deployments/:deployment/${operation}`, handler);
  };
  const modelOf = (request: FastifyRequest) =>
    (request.params as { deployment?: string }).deployment ??
    (request.body as { model?: string }).model ??
    '';

  app.get('/v1/models', async () => ({
    object: 'list',
    data: (options.models ?? ['fake-model']).map((id) => ({
      id,
      object: 'model',
      created: 0,
      owned_by: 'fake-upstream',
    })),
  }));

  // vLLM's /v1/rerank (Cohere's and Jina's shape), scored by shared words.
  app.post('/v1/rerank', async (request, reply) => {
    const body = request.body as { query?: unknown; documents?: unknown; top_n?: unknown; model?: string };
    record({ method: 'POST', url: request.url, headers: request.headers, body });
    if (typeof body.query !== 'string' || !Array.isArray(body.documents))
      return reply
        .code(400)
        .send({ error: { message: 'query and documents are required', type: 'BadRequestError' } });
    const results = body.documents
      .map((d, index) => {
        const text = typeof d === 'string' ? d : String((d as { text?: unknown }).text ?? '');
        return { index, relevance_score: fakeRelevance(String(body.query), text), document: { text } };
      })
      .sort((a, b) => b.relevance_score - a.relevance_score);
    return {
      id: `rerank-${attempts}`,
      model: body.model,
      results: typeof body.top_n === 'number' ? results.slice(0, body.top_n) : results,
      usage: { total_tokens: 0 },
    };
  });

  both('embeddings', async (request) => {
    const body = request.body as { input: string | string[]; dimensions?: number; encoding_format?: string };
    record({ method: 'POST', url: request.url, headers: request.headers, body });
    const model = modelOf(request);
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    const dims = body.dimensions ?? widthOf(model);
    return {
      object: 'list',
      model,
      data: inputs.map((text, index) => {
        const vector = pseudoEmbedding(String(text), dims);
        return {
          object: 'embedding',
          index,
          embedding: body.encoding_format === 'base64' ? base64Embedding(vector) : vector,
        };
      }),
      usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
    };
  });

  // Legacy completions, as OpenAI documents them: text_completion objects, SSE chunks, [DONE].
  both('completions', async (request, reply) => {
    const body = request.body as {
      prompt?: unknown;
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
    };
    record({ method: 'POST', url: request.url, headers: request.headers, body });
    const model = modelOf(request);
    const text = ` echo: ${String(body.prompt)}`;
    const usage = {
      prompt_tokens: Math.ceil(String(body.prompt).length / 4),
      completion_tokens: 5,
      total_tokens: 0,
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const base = {
      id: `cmpl-${attempts}`,
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model,
    };
    const choice = (t: string, finish: string | null) => ({
      text: t,
      index: 0,
      logprobs: null,
      finish_reason: finish,
    });
    if (!body.stream) return { ...base, choices: [choice(text, 'stop')], usage };
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (let i = 0; i < text.length; i += 6)
      res.write(`data: ${JSON.stringify({ ...base, choices: [choice(text.slice(i, i + 6), null)] })}\n\n`);
    res.write(`data: ${JSON.stringify({ ...base, choices: [choice('', 'stop')] })}\n\n`);
    if (body.stream_options?.include_usage)
      res.write(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
  });

  both('chat/completions', async (request, reply) => {
    const body = request.body as {
      messages: Array<{ role: string; content: unknown }>;
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
    };
    record({ method: 'POST', url: request.url, headers: request.headers, body });
    const model = modelOf(request);
    const last = [...(body.messages ?? [])].reverse().find((m) => m.role === 'user');
    // Text parts are echoed as their text, as a model reads them; other parts as JSON.
    const parts = Array.isArray(last?.content)
      ? (last.content as Array<{ type?: unknown; text?: unknown }>)
      : [];
    const text =
      typeof last?.content === 'string'
        ? last.content
        : parts.length > 0 && parts.every((p) => p?.type === 'text')
          ? parts.map((p) => String(p.text)).join(' ')
          : JSON.stringify(last?.content ?? '');
    const content = behaviour.reply?.(text, model) ?? `echo: ${text}`;
    const promptTokens = Math.ceil(JSON.stringify(body.messages ?? []).length / 4);
    const usage = { prompt_tokens: promptTokens, completion_tokens: 5, total_tokens: promptTokens + 5 };
    const id = `chatcmpl-${attempts}`;
    const created = Math.floor(Date.now() / 1000);
    const scripted = steps.get(request.raw);
    if (!body.stream && scripted?.answerBytes !== undefined) {
      const filler = 'x'.repeat(Math.max(0, scripted.answerBytes - 200));
      return {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: filler }, finish_reason: 'stop' }],
      };
    }
    if (!body.stream) {
      return {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content, refusal: null },
            finish_reason: 'stop',
            logprobs: null,
          },
        ],
        usage,
      };
    }
    const step = steps.get(request.raw);
    reply.hijack();
    const res = reply.raw;
    if (step?.streamBytes !== undefined) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const piece = `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: { content: 'y'.repeat(4000) }, finish_reason: null }] })}\n\n`;
      for (let sent = 0; sent < step.streamBytes && !res.destroyed; sent += piece.length) {
        if (!res.write(piece))
          await new Promise((r) => {
            res.once('drain', r);
            res.once('close', r);
          });
        bytesStreamed += piece.length;
      }
      res.end('data: [DONE]\n\n');
      return;
    }
    if (step?.firstByteDelayMs) await new Promise((r) => setTimeout(r, step.firstByteDelayMs));
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const n = Math.max(1, behaviour.streamChunks ?? 4);
    const size = Math.ceil(content.length / n);
    const chunk = (delta: object, finish: string | null, extra: object = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra })}\n\n`;
    const pieces = [chunk({ role: 'assistant', content: '' }, null)];
    for (let i = 0; i < content.length; i += size)
      pieces.push(chunk({ content: content.slice(i, i + size) }, null));
    pieces.push(chunk({}, 'stop'));
    if (body.stream_options?.include_usage) {
      pieces.push(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`,
      );
    }
    for (const [i, piece] of pieces.entries()) {
      if (step?.cutAfterChunks !== undefined && i >= step.cutAfterChunks) {
        res.destroy();
        return;
      }
      res.write(piece);
      await new Promise((r) => (step?.chunkDelayMs ? setTimeout(r, step.chunkDelayMs) : setImmediate(r)));
    }
    res.end('data: [DONE]\n\n');
  });

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    app,
    requests,
    get attempts() {
      return attempts;
    },
    faultsInjected,
    get bytesStreamed() {
      return bytesStreamed;
    },
    script: (more) => queue.push(...more),
    behave: (changes) => Object.assign(behaviour, changes),
    close: () => app.close(),
  };
}
