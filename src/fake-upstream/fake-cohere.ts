/**
 * A fake Cohere API v2 for tests: real HTTP on 127.0.0.1, written from Cohere's published API
 * reference (Chat, Embed, Rerank v2, and the request and event types of its official SDK) rather
 * than from semroute's translation:
 * - `Authorization: Bearer <key>`; a wrong key is 401 `{"message": "invalid api token"}`;
 * - `POST /v2/chat`: required `model` and non-empty `messages` (roles system, user, assistant,
 *   tool; a tool message names its `tool_call_id`; an assistant message has content or tool
 *   calls); only the documented top-level fields; `p` in [0.01, 0.99], `k` in [0, 500],
 *   `tool_choice` REQUIRED or NONE, at most 5 `stop_sequences`; answers a text echo, or a tool
 *   call (scripted, or the first tool when tool_choice is REQUIRED); `max_tokens` cuts the echo
 *   (MAX_TOKENS), a stop sequence ends it (STOP_SEQUENCE); streams as named events
 *   (message-start, content-start, content-delta…, content-end, tool-plan-delta,
 *   tool-call-start/delta/end, message-end with finish_reason and usage);
 * - `POST /v2/embed`: `model`, `texts` (≤ 96), a required `input_type`, `embedding_types`;
 * - `POST /v2/rerank`: `model`, `query`, `documents` as strings, `top_n`; scored by shared words;
 * - errors as `{"id", "message"}`: scripted statuses (429 is the trial key's limit).
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { pseudoEmbedding } from './fake-upstream.js';
import { fakeRelevance } from './relevance.js';

export interface CohereStep {
  status?: number;
  message?: string;
  delayMs?: number;
  /** Answer with this tool call. */
  toolCall?: { name: string; arguments: Record<string, unknown> };
  /** Streams: end with a message-end that carries this error. */
  streamError?: string;
}

export interface CohereRequestRecord {
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

export interface FakeCohere {
  /** Base URL as a client gives it (the API adds /v2/…). */
  url: string;
  app: FastifyInstance;
  requests: CohereRequestRecord[];
  script(steps: CohereStep[]): void;
  close(): Promise<void>;
}

export interface FakeCohereOptions {
  apiKeys?: readonly string[] | undefined;
  port?: number | undefined;
}

/** Chat v2's top-level fields (its SDK's V2ChatRequest), `stream` included. */
const CHAT_FIELDS = new Set([
  'model',
  'messages',
  'tools',
  'strict_tools',
  'documents',
  'citation_options',
  'response_format',
  'safety_mode',
  'max_tokens',
  'stop_sequences',
  'temperature',
  'seed',
  'frequency_penalty',
  'presence_penalty',
  'k',
  'p',
  'logprobs',
  'tool_choice',
  'thinking',
  'priority',
  'stream',
]);

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
const invalid = (message: string) => new Refusal(400, `invalid request: ${message}`);

type Json = Record<string, unknown>;
const tokensOf = (text: string) => Math.max(1, Math.ceil(text.length / 4));

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((p) => ((p as Json).type === 'text' ? String((p as Json).text ?? '') : '')).join(' ');
  return '';
}

function checkChat(body: Json): void {
  for (const key of Object.keys(body)) if (!CHAT_FIELDS.has(key)) throw invalid(`unknown field "${key}"`);
  if (typeof body.model !== 'string' || body.model === '') throw invalid('model must be a string');
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    throw invalid('messages must be a non-empty list');
  body.messages.forEach((raw, i) => {
    const m = raw as Json;
    if (!['system', 'user', 'assistant', 'tool'].includes(String(m.role)))
      throw invalid(`messages[${i}].role must be one of system, user, assistant, tool`);
    if (m.role === 'tool' && typeof m.tool_call_id !== 'string')
      throw invalid(`messages[${i}].tool_call_id is required for a tool message`);
    if (m.role === 'assistant' && m.content === undefined && !Array.isArray(m.tool_calls))
      throw invalid(`messages[${i}] must have content or tool_calls`);
    if (m.role === 'user' && Array.isArray(m.content))
      for (const part of m.content as Json[])
        if (!['text', 'image_url', 'document'].includes(String(part.type)))
          throw invalid(`messages[${i}].content has an unknown part type "${String(part.type)}"`);
  });
  if (body.p !== undefined && (typeof body.p !== 'number' || body.p < 0.01 || body.p > 0.99))
    throw invalid('p must be between 0.01 and 0.99');
  if (body.k !== undefined && (typeof body.k !== 'number' || body.k < 0 || body.k > 500))
    throw invalid('k must be between 0 and 500');
  if (body.tool_choice !== undefined && !['REQUIRED', 'NONE'].includes(String(body.tool_choice)))
    throw invalid('tool_choice must be REQUIRED or NONE');
  if (
    body.stop_sequences !== undefined &&
    (!Array.isArray(body.stop_sequences) || body.stop_sequences.length > 5)
  )
    throw invalid('stop_sequences must be a list of at most 5 strings');
  if (
    body.max_tokens !== undefined &&
    (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1)
  )
    throw invalid('max_tokens must be a positive integer');
}

interface Reply {
  text: string;
  finish: string;
  toolCall?: { id: string; name: string; arguments: string };
  input: number;
  output: number;
}

function answerOf(body: Json, step: CohereStep | undefined): Reply {
  const messages = body.messages as Json[];
  const input = tokensOf(messages.map((m) => textOf(m.content)).join(' '));
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
  const forced = body.tool_choice === 'REQUIRED' && tools.length > 0;
  if (step?.toolCall !== undefined || forced) {
    const name = step?.toolCall?.name ?? String((tools[0]?.function as Json | undefined)?.name ?? 'tool');
    const args = JSON.stringify(step?.toolCall?.arguments ?? {});
    return {
      text: '',
      finish: 'TOOL_CALL',
      toolCall: { id: `call_${randomUUID().slice(0, 8)}`, name, arguments: args },
      input,
      output: tokensOf(args),
    };
  }
  const lastUser = [...messages].reverse().find((m) => m.role === 'user' || m.role === 'tool');
  let text = `echo: ${textOf(lastUser?.content)}`;
  let finish = 'COMPLETE';
  for (const stop of (body.stop_sequences as string[] | undefined) ?? []) {
    const at = text.indexOf(stop);
    if (at >= 0) {
      text = text.slice(0, at);
      finish = 'STOP_SEQUENCE';
    }
  }
  if (typeof body.max_tokens === 'number') {
    const words = text.split(' ');
    if (words.length > body.max_tokens) {
      text = words.slice(0, body.max_tokens).join(' ');
      finish = 'MAX_TOKENS';
    }
  }
  return { text, finish, input, output: tokensOf(text) };
}

const usage = (r: Reply) => ({
  billed_units: { input_tokens: r.input, output_tokens: r.output },
  tokens: { input_tokens: r.input + 7, output_tokens: r.output },
});

function streamEvents(id: string, r: Reply, step: CohereStep | undefined): Json[] {
  const events: Json[] = [
    {
      type: 'message-start',
      id,
      delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } },
    },
  ];
  if (r.toolCall !== undefined) {
    events.push({
      type: 'tool-plan-delta',
      delta: { message: { tool_plan: `I will call ${r.toolCall.name}.` } },
    });
    events.push({
      type: 'tool-call-start',
      index: 0,
      delta: {
        message: {
          tool_calls: {
            id: r.toolCall.id,
            type: 'function',
            function: { name: r.toolCall.name, arguments: '' },
          },
        },
      },
    });
    // Arguments arrive in pieces, as Cohere streams them.
    for (const piece of r.toolCall.arguments.match(/.{1,5}/gs) ?? [])
      events.push({
        type: 'tool-call-delta',
        index: 0,
        delta: { message: { tool_calls: { function: { arguments: piece } } } },
      });
    events.push({ type: 'tool-call-end', index: 0 });
  } else {
    events.push({
      type: 'content-start',
      index: 0,
      delta: { message: { content: { type: 'text', text: '' } } },
    });
    for (const word of r.text.match(/\S+\s*/g) ?? [])
      events.push({ type: 'content-delta', index: 0, delta: { message: { content: { text: word } } } });
    events.push({ type: 'content-end', index: 0 });
  }
  events.push({
    type: 'message-end',
    delta:
      step?.streamError !== undefined
        ? { error: step.streamError, finish_reason: 'ERROR' }
        : { finish_reason: r.finish, usage: usage(r) },
  });
  return events;
}

export function registerCohere(app: FastifyInstance, options: FakeCohereOptions = {}) {
  const requests: CohereRequestRecord[] = [];
  const queue: CohereStep[] = [];

  const handle =
    (serve: (body: Json, step: CohereStep | undefined, reply: FastifyReply) => unknown) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const body = (request.body ?? {}) as Json;
      requests.push({ url: request.url, headers: request.headers, body });
      if (requests.length > 1_000) requests.shift();
      const id = randomUUID();
      try {
        const key = String(request.headers.authorization ?? '').replace(/^Bearer /i, '');
        if (key === '' || (options.apiKeys !== undefined && !options.apiKeys.includes(key)))
          throw new Refusal(401, 'invalid api token');
        const step = queue.shift();
        if (step?.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
        if (step?.status !== undefined && step.status !== 200)
          throw new Refusal(
            step.status,
            step.message ??
              (step.status === 429
                ? 'You are using a Trial key, which is limited to 10 API calls / minute.'
                : `scripted ${step.status}`),
          );
        return await serve(body, step, reply);
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        return reply.code(error.status).send({ id, message: error.message });
      }
    };

  app.post(
    '/v2/chat',
    handle((body, step, reply) => {
      checkChat(body);
      const r = answerOf(body, step);
      const id = randomUUID();
      if (body.stream !== true)
        return {
          id,
          finish_reason: r.finish,
          message: {
            role: 'assistant',
            ...(r.toolCall === undefined
              ? { content: [{ type: 'text', text: r.text }] }
              : {
                  tool_plan: `I will call ${r.toolCall.name}.`,
                  tool_calls: [
                    {
                      id: r.toolCall.id,
                      type: 'function',
                      function: { name: r.toolCall.name, arguments: r.toolCall.arguments },
                    },
                  ],
                }),
          },
          usage: usage(r),
        };
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const event of streamEvents(id, r, step))
        reply.raw.write(`event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`);
      reply.raw.end();
      return reply;
    }),
  );

  app.post(
    '/v2/embed',
    handle((body) => {
      if (typeof body.model !== 'string') throw invalid('model must be a string');
      if (!Array.isArray(body.texts) || body.texts.length === 0 || body.texts.length > 96)
        throw invalid('texts must be a list of 1 to 96 strings');
      if (typeof body.input_type !== 'string')
        throw invalid('input_type is required for embed models v3 and higher');
      const dimensions = typeof body.output_dimension === 'number' ? body.output_dimension : 1024;
      const texts = body.texts as string[];
      return {
        id: randomUUID(),
        embeddings: { float: texts.map((t) => pseudoEmbedding(t, dimensions)) },
        texts,
        meta: {
          api_version: { version: '2' },
          billed_units: { input_tokens: texts.reduce((n, t) => n + tokensOf(t), 0) },
        },
        response_type: 'embeddings_by_type',
      };
    }),
  );

  app.post(
    '/v2/rerank',
    handle((body) => {
      if (typeof body.model !== 'string') throw invalid('model must be a string');
      if (typeof body.query !== 'string' || body.query === '')
        throw invalid('query must be a non-empty string');
      if (!Array.isArray(body.documents) || body.documents.some((d) => typeof d !== 'string'))
        throw invalid('documents must be a list of strings');
      const results = (body.documents as string[])
        .map((d, index) => ({ index, relevance_score: fakeRelevance(String(body.query), d) }))
        .sort((a, b) => b.relevance_score - a.relevance_score);
      return {
        id: randomUUID(),
        results: typeof body.top_n === 'number' ? results.slice(0, body.top_n) : results,
        meta: { api_version: { version: '2' }, billed_units: { search_units: 1 } },
      };
    }),
  );

  return { requests, script: (steps: CohereStep[]) => void queue.push(...steps) };
}

export async function startFakeCohere(options: FakeCohereOptions = {}): Promise<FakeCohere> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const { requests, script } = registerCohere(app, options);
  const address = await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  return { url: address, app, requests, script, close: () => app.close() };
}
