/**
 * A fake Anthropic Messages API for tests: real HTTP on 127.0.0.1, written from Anthropic's
 * published documentation of the API rather than from semroute's translation, so that a wrong
 * translation fails here the way it would fail against api.anthropic.com:
 * - headers: `x-api-key` (or `Authorization: Bearer`, as SDK 1.x sends it) and a required
 *   `anthropic-version` (2023-06-01 or 2026-10-21, which refuses temperature/top_p/top_k);
 * - body: required `model`, `max_tokens` and a non-empty `messages`; unknown fields refused;
 *   non-empty content and text blocks; image media types; `tool_use`/`tool_result` blocks only
 *   with `tools`; each `tool_use` answered by `tool_result` blocks at the start of the next turn;
 *   tool input an object; whitespace-only stop sequences refused; and, with `strictAlternation`
 *   (the API before late 2024, and Bedrock today), roles that alternate and begin with `user`;
 * - errors in Anthropic's shape (`{type: "error", error: {type, message}, request_id}`) with a
 *   `request-id` header, 529 `overloaded_error` for overload;
 * - answers: a text echo, or a scripted tool call; streams as the documented event sequence
 *   (message_start, ping, content blocks with text and input_json deltas, message_delta with
 *   usage, message_stop), every frame with its `event:` line, and `error` events mid-stream.
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';

export interface AnthropicStep {
  /** Answer with this status and Anthropic's error body (529 = overloaded_error). */
  status?: number;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Destroy the socket instead of answering. */
  reset?: boolean;
  /** Answer with a tool call instead of text. */
  toolUse?: { name: string; input: Record<string, unknown> };
  /** Answer with this text (default: `echo: <last user text>`). */
  text?: string;
  stopReason?: string;
  /** Streams: send an `error` event of this type after `errorAfterEvents` events. */
  errorEvent?: string;
  errorAfterEvents?: number;
  /** Usage counts of cached prompt tokens. */
  cacheReadTokens?: number;
  cacheCreationTokens?: number;
}

export interface AnthropicRequestRecord {
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

export interface FakeAnthropic {
  /** Base URL as a client gives it (no /v1: the SDK and LiteLLM add /v1/messages). */
  url: string;
  app: FastifyInstance;
  requests: AnthropicRequestRecord[];
  script(steps: AnthropicStep[]): void;
  close(): Promise<void>;
}

export interface FakeAnthropicOptions {
  /** Keys it accepts; others get 401 "invalid x-api-key". Default: any non-empty key. */
  apiKeys?: readonly string[] | undefined;
  /** Models it serves; others get 404 not_found_error "model: <name>". Default: any. */
  models?: readonly string[] | undefined;
  /** Refuse consecutive same-role messages and a first assistant message (the older API). */
  strictAlternation?: boolean | undefined;
  port?: number | undefined;
}

const VERSIONS = new Set(['2023-06-01', '2026-10-21']);
/** Top-level request fields the Messages API takes (2023-06-01); others are "Extra inputs". */
const FIELDS = new Set([
  'model',
  'messages',
  'max_tokens',
  'system',
  'stop_sequences',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'metadata',
  'tools',
  'tool_choice',
  'thinking',
  'service_tier',
  'container',
  'mcp_servers',
  'cache_control',
  'output_config',
  'speed',
  'inference_geo',
]);
const SAMPLING = ['temperature', 'top_p', 'top_k'];
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new ApiError(400, 'invalid_request_error', message);
type Json = Record<string, unknown>;
type Block = Json & { type?: unknown };

function blocksOf(content: unknown): Block[] {
  return typeof content === 'string'
    ? [{ type: 'text', text: content }]
    : Array.isArray(content)
      ? content
      : [];
}

/** The checks the API makes of a request body, with its messages. */
function validate(body: Json, version: string, options: FakeAnthropicOptions): void {
  for (const required of ['model', 'messages', 'max_tokens'])
    if (body[required] === undefined) throw invalid(`${required}: Field required`);
  for (const key of Object.keys(body)) {
    if (!FIELDS.has(key) || (version === '2026-10-21' && SAMPLING.includes(key)))
      throw invalid(`${key}: Extra inputs are not permitted`);
  }
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 0)
    throw invalid('max_tokens: Input should be a valid integer');
  if (typeof body.model !== 'string') throw invalid('model: Input should be a valid string');
  if (options.models !== undefined && !options.models.includes(body.model))
    throw new ApiError(404, 'not_found_error', `model: ${body.model}`);
  const messages = body.messages;
  if (!Array.isArray(messages)) throw invalid('messages: Input should be a valid list');
  if (messages.length === 0) throw invalid('messages: at least one message is required');
  if (body.stop_sequences !== undefined) {
    if (
      !Array.isArray(body.stop_sequences) ||
      body.stop_sequences.some((s) => typeof s !== 'string' || s.trim() === '')
    )
      throw invalid('stop_sequences: each stop sequence must contain non-whitespace');
  }
  if (body.system !== undefined && typeof body.system !== 'string') {
    if (
      !Array.isArray(body.system) ||
      body.system.some((b: Block) => b?.type !== 'text' || typeof b.text !== 'string')
    )
      throw invalid('system: Input should be a valid string or a list of text blocks');
  }
  const tools = body.tools;
  if (tools !== undefined) {
    if (!Array.isArray(tools)) throw invalid('tools: Input should be a valid list');
    tools.forEach((t: Json, i) => {
      if (typeof t?.name !== 'string') throw invalid(`tools.${i}.name: Field required`);
      const schema = t.input_schema as Json | undefined;
      if (t.type === undefined || t.type === 'custom') {
        if (schema?.type !== 'object')
          throw invalid(`tools.${i}.custom.input_schema.type: Input should be 'object'`);
      }
    });
  }
  let usesTools = false;
  let pendingToolUses: string[] = [];
  messages.forEach((m: Json, i) => {
    const role = m?.role;
    const allowed = version === '2026-10-21' ? ['user', 'assistant', 'system'] : ['user', 'assistant'];
    if (!allowed.includes(String(role)))
      throw invalid(`messages.${i}.role: Input should be ${allowed.map((r) => `'${r}'`).join(' or ')}`);
    if (options.strictAlternation) {
      if (i === 0 && role !== 'user') throw invalid('messages: first message must use the "user" role');
      if (i > 0 && (messages[i - 1] as Json).role === role)
        throw invalid(
          `messages: roles must alternate between "user" and "assistant", but found multiple "${String(role)}" roles in a row`,
        );
    }
    const blocks = blocksOf(m.content);
    const last = i === messages.length - 1;
    if (blocks.length === 0 && !(last && role === 'assistant'))
      throw invalid(
        `messages.${i}: all messages must have non-empty content except for the optional final assistant message`,
      );
    // Tool results answering the previous turn's tool uses come first, all of them.
    if (pendingToolUses.length > 0) {
      const leading = blocks.findIndex((b) => b.type !== 'tool_result');
      const results = (leading < 0 ? blocks : blocks.slice(0, leading)).map((b) => b.tool_use_id);
      if (results.length < pendingToolUses.length) {
        throw invalid(
          `messages.${i}: Did not find ${pendingToolUses.length} \`tool_result\` block(s) at the beginning of this message. Messages following \`tool_use\` blocks must begin with a matching number of \`tool_result\` blocks.`,
        );
      }
      const missing = pendingToolUses.filter((id) => !results.includes(id));
      if (missing.length > 0) {
        throw invalid(
          `messages.${i - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
      }
    }
    pendingToolUses = [];
    blocks.forEach((b, j) => {
      switch (b.type) {
        case 'text':
          if (typeof b.text !== 'string' || b.text === '')
            throw invalid('messages: text content blocks must be non-empty');
          if (last && role === 'assistant' && /\s$/.test(b.text))
            throw invalid('messages: final assistant content cannot end with trailing whitespace');
          break;
        case 'image': {
          const source = (b.source ?? {}) as Json;
          if (source.type === 'base64') {
            if (!IMAGE_TYPES.has(String(source.media_type)))
              throw invalid(
                `messages.${i}.content.${j}.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`,
              );
            if (typeof source.data !== 'string' || source.data === '')
              throw invalid(`messages.${i}.content.${j}.image.source.base64.data: Field required`);
          } else if (source.type === 'url') {
            if (typeof source.url !== 'string' || !/^https?:\/\//.test(source.url))
              throw invalid(`messages.${i}.content.${j}.image.source.url.url: Input should be a valid URL`);
          } else
            throw invalid(
              `messages.${i}.content.${j}.image.source: Input tag '${String(source.type)}' found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'`,
            );
          break;
        }
        case 'document':
          break;
        case 'tool_use':
          usesTools = true;
          if (role !== 'assistant')
            throw invalid(`messages.${i}.content.${j}: tool_use blocks can only be in assistant messages`);
          if (b.input === null || typeof b.input !== 'object' || Array.isArray(b.input))
            throw invalid(`messages.${i}.content.${j}.tool_use.input: Input should be a valid dictionary`);
          pendingToolUses.push(String(b.id));
          break;
        case 'tool_result':
          usesTools = true;
          if (role !== 'user')
            throw invalid(`messages.${i}.content.${j}: tool_result blocks can only be in user messages`);
          break;
        case 'thinking':
        case 'redacted_thinking':
          break;
        default:
          throw invalid(
            `messages.${i}.content.${j}: Input tag '${String(b.type)}' found using 'type' does not match any of the expected tags`,
          );
      }
    });
  });
  if (usesTools && tools === undefined)
    throw invalid('Requests which include `tool_use` or `tool_result` blocks must define tools.');
}

function lastUserText(messages: Json[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== 'user') continue;
    const text = blocksOf(m.content)
      .filter((b) => b.type === 'text')
      .map((b) => String(b.text))
      .join(' ');
    if (text !== '') return text;
  }
  return '';
}

export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 32 * 1024 * 1024 });
  const { requests, script } = registerAnthropic(app, options);
  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    requests,
    script,
    close: () => app.close(),
  };
}

/**
 * Anthropic's API on a fastify app: `POST /v1/messages` (plain and streamed), `POST
 * /v1/messages/count_tokens`, and `GET /v1/models` unless `models: false` (the OpenAI fake that
 * mounts these keeps its own model list).
 */
export function registerAnthropic(
  app: FastifyInstance,
  options: FakeAnthropicOptions & { listModels?: boolean } = {},
): { requests: AnthropicRequestRecord[]; script: (steps: AnthropicStep[]) => void } {
  const queue: AnthropicStep[] = [];
  const requests: AnthropicRequestRecord[] = [];
  let counter = 0;

  const fail = (reply: FastifyReply, error: ApiError) => {
    const requestId = `req_${randomBytes(12).toString('hex')}`;
    return reply
      .code(error.status)
      .header('request-id', requestId)
      .send({ type: 'error', error: { type: error.type, message: error.message }, request_id: requestId });
  };

  /** Auth and version, as the API checks them before the body. */
  const checkHeaders = (headers: Record<string, string | string[] | undefined>): string => {
    const key =
      String(headers['x-api-key'] ?? '') || String(headers.authorization ?? '').replace(/^Bearer /i, '');
    if (key === '') throw new ApiError(401, 'authentication_error', 'x-api-key header is required');
    if (options.apiKeys !== undefined && !options.apiKeys.includes(key))
      throw new ApiError(401, 'authentication_error', 'invalid x-api-key');
    const version = headers['anthropic-version'];
    if (typeof version !== 'string') throw invalid('anthropic-version: header is required');
    if (!VERSIONS.has(version)) throw invalid(`anthropic-version: "${version}" is not a valid version`);
    return version;
  };

  if (options.listModels !== false)
    app.get('/v1/models', async (request, reply) => {
      try {
        checkHeaders(request.headers);
      } catch (error) {
        return fail(reply, error as ApiError);
      }
      return {
        data: (options.models ?? ['claude-fake']).map((id) => ({
          type: 'model',
          id,
          display_name: id,
          created_at: '2025-01-01T00:00:00Z',
        })),
        has_more: false,
        first_id: null,
        last_id: null,
      };
    });

  app.post('/v1/messages/count_tokens', async (request, reply) => {
    const body = (request.body ?? {}) as Json;
    requests.push({ url: request.url, headers: request.headers, body });
    try {
      const version = checkHeaders(request.headers);
      validate({ max_tokens: 1, ...body }, version, options);
    } catch (error) {
      return fail(reply, error as ApiError);
    }
    return { input_tokens: Math.ceil(JSON.stringify(body.messages ?? []).length / 4) };
  });

  app.post('/v1/messages', async (request, reply) => {
    const body = (request.body ?? {}) as Json;
    requests.push({ url: request.url, headers: request.headers, body });
    if (requests.length > 1000) requests.splice(0, requests.length - 1000);
    const step = queue.shift() ?? {};
    if (step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
    if (step.reset) {
      request.raw.socket.destroy();
      return reply;
    }
    try {
      const version = checkHeaders(request.headers);
      if (step.status !== undefined && step.status >= 400) {
        if (step.headers) reply.headers(step.headers);
        const type =
          step.status === 529 ? 'overloaded_error' : step.status === 429 ? 'rate_limit_error' : 'api_error';
        throw new ApiError(step.status, type, step.status === 529 ? 'Overloaded' : `scripted ${step.status}`);
      }
      validate(body, version, options);
    } catch (error) {
      return fail(reply, error as ApiError);
    }
    counter++;
    const id = `msg_fake${String(counter).padStart(6, '0')}`;
    const model = String(body.model);
    const forced =
      (body.tool_choice as Json | undefined)?.type === 'tool'
        ? String((body.tool_choice as Json).name)
        : undefined;
    const toolUse =
      step.toolUse ?? (forced === undefined ? undefined : { name: forced, input: { answer: 'forced' } });
    const text =
      toolUse === undefined ? (step.text ?? `echo: ${lastUserText(body.messages as Json[])}`) : undefined;
    const stopReason = step.stopReason ?? (toolUse === undefined ? 'end_turn' : 'tool_use');
    const usage = {
      input_tokens: Math.ceil(JSON.stringify(body.messages).length / 4),
      output_tokens: 5,
      cache_creation_input_tokens: step.cacheCreationTokens ?? 0,
      cache_read_input_tokens: step.cacheReadTokens ?? 0,
    };
    const toolId = `toolu_fake${String(counter).padStart(6, '0')}`;
    const content =
      toolUse === undefined
        ? [{ type: 'text', text, citations: null }]
        : [{ type: 'tool_use', id: toolId, name: toolUse.name, input: toolUse.input }];
    reply.header('request-id', `req_fake${counter}`);
    if (body.stream !== true) {
      return {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content,
        stop_reason: stopReason,
        stop_sequence: null,
        usage,
      };
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'request-id': `req_fake${counter}`,
    });
    const events: Array<[string, Json]> = [
      [
        'message_start',
        {
          type: 'message_start',
          message: {
            id,
            type: 'message',
            role: 'assistant',
            model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { ...usage, output_tokens: 1 },
          },
        },
      ],
      ['ping', { type: 'ping' }],
    ];
    if (toolUse === undefined) {
      events.push([
        'content_block_start',
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      ]);
      const size = Math.max(1, Math.ceil(text!.length / 3));
      for (let i = 0; i < text!.length; i += size)
        events.push([
          'content_block_delta',
          {
            type: 'content_block_delta',
            index: 0,
            delta: { type: 'text_delta', text: text!.slice(i, i + size) },
          },
        ]);
    } else {
      events.push([
        'content_block_start',
        {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'tool_use', id: toolId, name: toolUse.name, input: {} },
        },
      ]);
      const json = JSON.stringify(toolUse.input);
      const half = Math.ceil(json.length / 2);
      for (const part of ['', json.slice(0, half), json.slice(half)])
        events.push([
          'content_block_delta',
          { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: part } },
        ]);
    }
    events.push(['content_block_stop', { type: 'content_block_stop', index: 0 }]);
    events.push([
      'message_delta',
      {
        type: 'message_delta',
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: { output_tokens: usage.output_tokens },
      },
    ]);
    events.push(['message_stop', { type: 'message_stop' }]);
    for (const [i, [event, data]] of events.entries()) {
      if (step.errorEvent !== undefined && i === (step.errorAfterEvents ?? 2)) {
        res.write(
          `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: step.errorEvent, message: 'Overloaded' } })}\n\n`,
        );
        res.end();
        return;
      }
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      await new Promise((r) => setImmediate(r));
    }
    res.end();
  });

  return { requests, script: (steps) => void queue.push(...steps) };
}
