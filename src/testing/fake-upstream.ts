/**
 * A fake OpenAI-compatible upstream for tests and benchmarks: real HTTP on 127.0.0.1, answers
 * scripted per request (status, headers, latency, connection reset). Embeddings are
 * deterministic pseudo-vectors of the text, so equal texts give equal vectors.
 */
import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';

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
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface FakeUpstream {
  url: string;
  app: FastifyInstance;
  requests: RecordedRequest[];
  /** Requests received, scripted failures included. */
  readonly attempts: number;
  /** Queues steps consumed one per request; when empty, requests succeed. */
  script(steps: ScriptStep[]): void;
  close(): Promise<void>;
}

export function pseudoEmbedding(text: string, dimensions: number): number[] {
  const out = new Array<number>(dimensions);
  let seed = createHash('sha256').update(text).digest();
  for (let i = 0; i < dimensions; i++) {
    if (i % 32 === 0 && i > 0) seed = createHash('sha256').update(seed).digest();
    out[i] = (seed[i % 32]! - 127.5) / 127.5;
  }
  return out;
}

export async function startFakeUpstream(options: { dimensions?: number } = {}): Promise<FakeUpstream> {
  const dimensions = options.dimensions ?? 64;
  const app = Fastify({ logger: false });
  const queue: ScriptStep[] = [];
  const requests: RecordedRequest[] = [];
  let attempts = 0;

  app.addHook('onRequest', async (request, reply) => {
    attempts++;
    const step = queue.shift();
    if (step === undefined) return;
    if (step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
    if (step.reset) {
      request.raw.socket.destroy();
      return reply;
    }
    if (step.status !== undefined && step.status !== 200) {
      reply.code(step.status).headers(step.headers ?? {});
      return reply.send(
        step.body ?? { error: { message: `scripted ${step.status}`, type: 'fake_error', code: null } },
      );
    }
    if (step.headers) reply.headers(step.headers);
  });

  app.post('/v1/embeddings', async (request) => {
    const body = request.body as { input: string | string[]; model: string; dimensions?: number };
    requests.push({ method: 'POST', url: request.url, headers: request.headers, body });
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    const dims = body.dimensions ?? dimensions;
    return {
      object: 'list',
      model: body.model,
      data: inputs.map((text, index) => ({
        object: 'embedding',
        index,
        embedding: pseudoEmbedding(String(text), dims),
      })),
      usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
    };
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    app,
    requests,
    get attempts() {
      return attempts;
    },
    script: (steps) => queue.push(...steps),
    close: () => app.close(),
  };
}
