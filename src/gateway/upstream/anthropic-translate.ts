/**
 * OpenAI chat completions ⇄ Anthropic Messages (API version 2023-06-01), as LiteLLM maps them
 * and as the Messages API documents its fields:
 * - request: every system (and developer) message into `system` blocks; user and tool messages
 *   merged into alternating turns (tool results first, as the API requires); images from data
 *   URLs (base64) and http(s) URLs (url source); PDFs as documents; assistant tool calls as
 *   `tool_use` blocks; tools, tool_choice (with parallel_tool_calls), stop → stop_sequences,
 *   max_tokens (default 4096), `user` → metadata.user_id, reasoning_effort → thinking,
 *   response_format → a forced tool whose input is the answer; `cache_control` kept wherever
 *   the client put it; parameters Anthropic has no equivalent for refused (or dropped with
 *   drop_params); any other field sent as it is (top_k, thinking, …).
 * - answer: text, tool calls, thinking as reasoning_content, stop_reason → finish_reason, usage
 *   (prompt tokens include cache reads and writes, as OpenAI counts them).
 * - stream: message_start … message_stop events into OpenAI chunks; tool calls numbered 0..k in
 *   the order they start (not by content block index); the choice index is always 0.
 */
import { ErrorCode, SemrouteError } from '../../errors.js';
import type { ChatBody, ChatChunk, ChatCompletion } from '../types.js';

/** LiteLLM's default when a request sets no max_tokens (the Messages API requires one). */
export const DEFAULT_MAX_TOKENS = 4096;
/** The tool that carries a response_format answer. */
const JSON_TOOL = 'json_tool_call';
const THINKING_BUDGET: Record<string, number> = { minimal: 1024, low: 1024, medium: 2048, high: 4096 };

/** OpenAI parameters the Messages API has no equivalent for. */
export const ANTHROPIC_UNSUPPORTED: ReadonlySet<string> = new Set([
  'frequency_penalty',
  'presence_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'seed',
  'modalities',
  'audio',
  'prediction',
  'store',
  'web_search_options',
  'verbosity',
  'functions',
  'function_call',
  'metadata',
  'prompt_cache_key',
  'safety_identifier',
]);

/** OpenAI parameters this translation reads (never copied as they are). */
const MAPPED = new Set([
  'model',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'stop',
  'temperature',
  'top_p',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'user',
  'reasoning_effort',
  'response_format',
  'stream',
  'stream_options',
  'n',
  'service_tier',
]);

type Block = Record<string, unknown> & { type: string };
type Message = { role: 'user' | 'assistant'; content: Block[] };
type Json = Record<string, unknown>;

const invalid = (path: string, message: string, expected?: string) =>
  new SemrouteError(ErrorCode.INPUT_INVALID, `${path}: ${message}`, { path, expected });

function withCache(block: Block, from: unknown): Block {
  const cache = (from as { cache_control?: unknown } | null)?.cache_control;
  return cache === undefined ? block : { ...block, cache_control: cache };
}

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** An OpenAI image_url part as an Anthropic image (or PDF document) block. */
function imageBlock(part: Json, path: string, provider: string): Block {
  const image = part.image_url as { url?: unknown; format?: unknown } | string | undefined;
  const url = typeof image === 'string' ? image : image?.url;
  if (typeof url !== 'string') throw invalid(`${path}.image_url.url`, 'missing', 'a data: or https: URL');
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (data !== null) {
    const format = typeof image === 'object' && typeof image.format === 'string' ? image.format : undefined;
    const mediaType = format ?? data[1]!;
    const source = { type: 'base64', media_type: mediaType, data: data[2]! };
    if (mediaType === 'application/pdf') return withCache({ type: 'document', source }, part);
    if (!IMAGE_TYPES.has(mediaType))
      throw invalid(
        `${path}.image_url.url`,
        `${provider} takes no ${mediaType} image`,
        [...IMAGE_TYPES].join(', '),
      );
    return withCache({ type: 'image', source }, part);
  }
  if (/^https?:\/\//i.test(url)) return withCache({ type: 'image', source: { type: 'url', url } }, part);
  throw invalid(
    `${path}.image_url.url`,
    'is neither a data: URL nor an http(s) URL',
    'a data: or https: URL',
  );
}

/** The content of a user (or tool) message as blocks. */
function userBlocks(content: unknown, path: string, provider: string): Block[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalid(`${path}.content`, 'must be text or a list of parts');
  return content.map((part: Json, j) => {
    const at = `${path}.content[${j}]`;
    switch (part?.type) {
      case 'text':
        return withCache({ type: 'text', text: String(part.text ?? '') }, part);
      case 'image_url':
        return imageBlock(part, at, provider);
      case 'file': {
        // A PDF as chat's file part (file_data is a data: URL): Anthropic's document block.
        const file = (part.file ?? {}) as Json;
        const data = /^data:([^;,]+);base64,(.*)$/s.exec(String(file.file_data ?? ''));
        if (data === null)
          throw invalid(
            `${at}.file.file_data`,
            'must be a base64 data: URL',
            'data:application/pdf;base64,…',
          );
        return withCache(
          { type: 'document', source: { type: 'base64', media_type: data[1]!, data: data[2]! } },
          part,
        );
      }
      // Anthropic's own blocks, sent by clients that know the upstream.
      case 'image':
      case 'document':
        return part as Block;
      default:
        throw invalid(
          `${at}.type`,
          `"${String(part?.type)}" parts cannot be sent to ${provider}`,
          'text or image_url',
        );
    }
  });
}

function toolInput(args: unknown, path: string, provider: string): Json {
  if (args === undefined || args === null || args === '') return {};
  if (typeof args === 'object') return args as Json;
  try {
    const parsed = JSON.parse(String(args)) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Json;
  } catch {
    // Reported below.
  }
  throw invalid(path, `must be a JSON object (${provider} takes tool input as an object)`, 'a JSON object');
}

function assistantBlocks(message: Json, path: string, provider: string): Block[] {
  const out: Block[] = [];
  const content = message.content;
  if (typeof content === 'string') {
    if (content !== '') out.push({ type: 'text', text: content });
  } else if (Array.isArray(content)) {
    for (const part of content as Json[]) {
      if (part?.type === 'text' && part.text !== '')
        out.push(withCache({ type: 'text', text: String(part.text) }, part));
      else if (part?.type === 'thinking' || part?.type === 'redacted_thinking') out.push(part as Block);
    }
  }
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : [];
  calls.forEach((call, j) => {
    const fn = (call.function ?? {}) as Json;
    out.push(
      withCache(
        {
          type: 'tool_use',
          id: String(call.id),
          name: String(fn.name),
          input: toolInput(fn.arguments, `${path}.tool_calls[${j}].function.arguments`, provider),
        },
        call,
      ),
    );
  });
  return out;
}

function toolResult(message: Json, path: string, provider: string): Block {
  if (typeof message.tool_call_id !== 'string')
    throw invalid(`${path}.tool_call_id`, 'missing', 'the id of the tool call it answers');
  const content = message.content;
  return withCache(
    {
      type: 'tool_result',
      tool_use_id: message.tool_call_id,
      content: typeof content === 'string' ? content : userBlocks(content, path, provider),
    },
    message,
  );
}

/** System text blocks from system and developer messages, wherever they are. */
function systemBlocks(content: unknown, path: string): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalid(`${path}.content`, 'must be text or a list of text parts');
  return (content as Json[]).map((part) => withCache({ type: 'text', text: String(part?.text ?? '') }, part));
}

/** Messages in Anthropic's turns: same-role neighbours merged, tool results first in a user turn. */
function turns(messages: unknown[], provider: string): { system: Block[]; messages: Message[] } {
  const system: Block[] = [];
  const out: Message[] = [];
  const push = (role: Message['role'], blocks: Block[]) => {
    const last = out.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  messages.forEach((raw, i) => {
    const m = raw as Json;
    const path = `messages[${i}]`;
    switch (m?.role) {
      case 'system':
      case 'developer':
        system.push(...systemBlocks(m.content, path));
        break;
      case 'user':
        push('user', userBlocks(m.content, path, provider));
        break;
      case 'tool':
        push('user', [toolResult(m, path, provider)]);
        break;
      case 'assistant':
        push('assistant', assistantBlocks(m, path, provider));
        break;
      default:
        throw invalid(
          `${path}.role`,
          `"${String(m?.role)}" cannot be sent to ${provider}`,
          'system, user, assistant or tool',
        );
    }
  });
  for (const m of out) {
    if (m.role === 'user' && m.content.some((b) => b.type === 'tool_result')) {
      m.content = [
        ...m.content.filter((b) => b.type === 'tool_result'),
        ...m.content.filter((b) => b.type !== 'tool_result'),
      ];
    }
  }
  // A final assistant turn is a prefill: the API refuses one that ends in white space.
  const last = out.at(-1);
  const tail = last?.role === 'assistant' ? last.content.at(-1) : undefined;
  if (tail?.type === 'text') tail.text = String(tail.text).trimEnd();
  return { system, messages: out.filter((m) => m.content.length > 0) };
}

function toolChoice(choice: unknown, parallel: unknown): Json | undefined {
  let out: Json | undefined;
  if (choice === 'auto') out = { type: 'auto' };
  else if (choice === 'required') out = { type: 'any' };
  else if (choice === 'none') return { type: 'none' };
  else if (choice !== null && typeof choice === 'object') {
    const name = ((choice as Json).function as Json | undefined)?.name;
    out = typeof name === 'string' ? { type: 'tool', name } : (choice as Json);
  }
  if (parallel === false) out = { ...(out ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return out;
}

function tools(list: unknown): Json[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return (list as Json[]).map((tool) => {
    if (tool?.type !== 'function') return tool;
    const fn = (tool.function ?? {}) as Json;
    return withCache(
      {
        name: fn.name,
        ...(fn.description === undefined ? {} : { description: fn.description }),
        input_schema: fn.parameters ?? { type: 'object', properties: {} },
      } as unknown as Block,
      tool.cache_control === undefined ? fn : tool,
    );
  });
}

/** LiteLLM sends no user_id that looks like an e-mail address or a phone number. */
const PERSONAL = /@|^\+?[\d\s().-]{7,}$/;

/**
 * The Messages request for a chat request (`drop` = drop_params: leave out what has no
 * equivalent). `provider` names the upstream in refusals: Bedrock and Vertex AI send Claude the
 * same format, and their callers should read their own provider's name.
 */
export function toAnthropicRequest(
  body: ChatBody & { model: string },
  drop: boolean,
  provider = 'Anthropic',
): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined || value === null || MAPPED.has(key)) continue;
    if (ANTHROPIC_UNSUPPORTED.has(key)) {
      if (drop) continue;
      throw new SemrouteError(
        ErrorCode.INPUT_INVALID,
        `${key}: ${provider} has no such parameter; remove it, or set drop_params: true (litellm_settings or the deployment) to drop it`,
        { path: key, expected: `a parameter ${provider} takes` },
      );
    }
    out[key] = value;
  }
  if (typeof body.n === 'number' && body.n > 1 && !drop) {
    throw invalid('n', `${provider} answers one choice per request`, 'n: 1 (or drop_params: true)');
  }
  const { system, messages } = turns(body.messages, provider);
  out.model = body.model;
  out.messages = messages;
  if (system.length > 0) out.system = system;
  const maxTokens = body.max_tokens ?? body.max_completion_tokens;
  out.max_tokens = typeof maxTokens === 'number' ? maxTokens : DEFAULT_MAX_TOKENS;
  if (body.temperature !== undefined && body.temperature !== null) out.temperature = body.temperature;
  if (body.top_p !== undefined && body.top_p !== null) out.top_p = body.top_p;
  if (body.stop !== undefined && body.stop !== null) {
    const stops = (Array.isArray(body.stop) ? body.stop : [body.stop]).filter(
      (s): s is string => typeof s === 'string' && s.trim() !== '',
    );
    if (stops.length > 0) out.stop_sequences = stops;
  }
  const mappedTools = tools(body.tools);
  if (mappedTools !== undefined) out.tools = mappedTools;
  const choice = toolChoice(body.tool_choice, body.parallel_tool_calls);
  if (choice !== undefined && (mappedTools !== undefined || choice.type === 'none')) out.tool_choice = choice;
  if (typeof body.user === 'string' && body.user !== '' && !PERSONAL.test(body.user))
    out.metadata = { user_id: body.user };
  if (typeof body.reasoning_effort === 'string' && THINKING_BUDGET[body.reasoning_effort] !== undefined) {
    const budget = THINKING_BUDGET[body.reasoning_effort]!;
    out.thinking = { type: 'enabled', budget_tokens: budget };
    if ((out.max_tokens as number) <= budget) out.max_tokens = budget + DEFAULT_MAX_TOKENS;
  }
  const format = body.response_format as Json | undefined;
  if (format?.type === 'json_schema' || format?.type === 'json_object') {
    const schema = ((format.json_schema as Json | undefined)?.schema as Json | undefined) ?? {
      type: 'object',
      additionalProperties: true,
    };
    out.tools = [
      ...((out.tools as Json[] | undefined) ?? []),
      { name: JSON_TOOL, description: 'Answer with this JSON', input_schema: schema },
    ];
    if (out.thinking === undefined) out.tool_choice = { type: 'tool', name: JSON_TOOL };
  }
  return out;
}

/** Whether the request's answer comes back as the JSON tool's input (response_format). */
export function wantsJson(body: ChatBody): boolean {
  const type = (body.response_format as Json | undefined)?.type;
  return type === 'json_schema' || type === 'json_object';
}

/** stop_reason → finish_reason. */
export function finishReason(stop: unknown): ChatCompletion['choices'][number]['finish_reason'] {
  switch (stop) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
    case 'compaction':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** OpenAI counts cached prompt tokens in prompt_tokens; Anthropic's input_tokens leaves them out. */
export function usageOf(u: AnthropicUsage): NonNullable<ChatCompletion['usage']> {
  const read = u.cache_read_input_tokens ?? 0;
  const prompt = (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + read;
  const completion = u.output_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: read },
  };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A Messages answer as a chat completion. */
export function fromAnthropicMessage(message: Json, json: boolean): ChatCompletion {
  const blocks = (Array.isArray(message.content) ? message.content : []) as Json[];
  let text = '';
  let reasoning = '';
  const calls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
  let jsonAnswer: string | undefined;
  for (const b of blocks) {
    if (b.type === 'text') text += String(b.text ?? '');
    else if (b.type === 'thinking') reasoning += String(b.thinking ?? '');
    else if (b.type === 'tool_use') {
      const args = JSON.stringify(b.input ?? {});
      if (json && b.name === JSON_TOOL) jsonAnswer = args;
      else
        calls.push({
          id: String(b.id),
          type: 'function',
          function: { name: String(b.name), arguments: args },
        });
    }
  }
  const content = jsonAnswer ?? (text === '' ? null : text);
  return {
    id: String(message.id ?? ''),
    object: 'chat.completion',
    created: nowSeconds(),
    model: String(message.model ?? ''),
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content,
          refusal: null,
          ...(calls.length > 0 ? { tool_calls: calls } : {}),
          ...(reasoning === '' ? {} : { reasoning_content: reasoning }),
        } as ChatCompletion['choices'][number]['message'],
        finish_reason: jsonAnswer !== undefined ? 'stop' : finishReason(message.stop_reason),
        logprobs: null,
      },
    ],
    usage: usageOf((message.usage ?? {}) as AnthropicUsage),
  };
}

/** The HTTP status an Anthropic error type stands for (stream error events carry only the type). */
export const ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/**
 * Turns the Messages stream, one event at a time, into chat completion chunks. One instance per
 * stream: it numbers tool calls and remembers the input counts of message_start.
 */
export class AnthropicStreamTranslator {
  private id = '';
  private model = '';
  private readonly created = nowSeconds();
  private toolCalls = -1;
  /** Content block index → what it is. */
  private readonly blocks = new Map<
    number,
    { kind: 'text' | 'tool' | 'json' | 'thinking' | 'other'; tool: number; args: boolean }
  >();
  private usage: AnthropicUsage = {};
  private finish: ChatChunk['choices'][number]['finish_reason'] = null;

  constructor(
    private readonly json: boolean,
    /** stream_options.include_usage: a last chunk with usage and no choices. */
    private readonly includeUsage: boolean,
  ) {}

  private chunk(delta: Json, finish: ChatChunk['choices'][number]['finish_reason'] = null): ChatChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    } as ChatChunk;
  }

  /** The chunks one event makes (often none). Throws SemrouteError-free data errors to the caller. */
  push(event: string, data: Json): ChatChunk[] {
    switch (event) {
      case 'message_start': {
        const message = (data.message ?? {}) as Json;
        this.id = String(message.id ?? '');
        this.model = String(message.model ?? '');
        this.usage = { ...((message.usage ?? {}) as AnthropicUsage) };
        return [this.chunk({ role: 'assistant', content: '' })];
      }
      case 'content_block_start': {
        const block = (data.content_block ?? {}) as Json;
        const index = Number(data.index);
        if (block.type === 'text') {
          this.blocks.set(index, { kind: 'text', tool: -1, args: false });
          return typeof block.text === 'string' && block.text !== ''
            ? [this.chunk({ content: block.text })]
            : [];
        }
        if (block.type === 'tool_use') {
          if (this.json && block.name === JSON_TOOL) {
            this.blocks.set(index, { kind: 'json', tool: -1, args: false });
            return [];
          }
          const tool = ++this.toolCalls;
          this.blocks.set(index, { kind: 'tool', tool, args: false });
          return [
            this.chunk({
              tool_calls: [
                {
                  index: tool,
                  id: block.id,
                  type: 'function',
                  function: { name: block.name, arguments: '' },
                },
              ],
            }),
          ];
        }
        this.blocks.set(index, {
          kind: block.type === 'thinking' ? 'thinking' : 'other',
          tool: -1,
          args: false,
        });
        return [];
      }
      case 'content_block_delta': {
        const block = this.blocks.get(Number(data.index));
        const delta = (data.delta ?? {}) as Json;
        if (delta.type === 'text_delta') return [this.chunk({ content: String(delta.text ?? '') })];
        if (delta.type === 'thinking_delta')
          return [this.chunk({ reasoning_content: String(delta.thinking ?? '') })];
        if (delta.type === 'input_json_delta' && block !== undefined) {
          const part = String(delta.partial_json ?? '');
          if (part === '') return [];
          block.args = true;
          if (block.kind === 'json') return [this.chunk({ content: part })];
          return [this.chunk({ tool_calls: [{ index: block.tool, function: { arguments: part } }] })];
        }
        return [];
      }
      case 'content_block_stop': {
        const block = this.blocks.get(Number(data.index));
        // A tool called without arguments sends no fragment: its arguments are still an object.
        if (block?.kind === 'tool' && !block.args)
          return [this.chunk({ tool_calls: [{ index: block.tool, function: { arguments: '{}' } }] })];
        if (block?.kind === 'json' && !block.args) return [this.chunk({ content: '{}' })];
        return [];
      }
      case 'message_delta': {
        const delta = (data.delta ?? {}) as Json;
        const usage = (data.usage ?? {}) as AnthropicUsage;
        // Cumulative counts: overwrite, never add.
        for (const [k, v] of Object.entries(usage))
          if (v !== null && v !== undefined) (this.usage as Json)[k] = v;
        const json = [...this.blocks.values()].some((b) => b.kind === 'json');
        this.finish = json ? 'stop' : finishReason(delta.stop_reason);
        return [this.chunk({}, this.finish)];
      }
      case 'message_stop':
        if (!this.includeUsage) return [];
        return [
          {
            id: this.id,
            object: 'chat.completion.chunk',
            created: this.created,
            model: this.model,
            choices: [],
            usage: usageOf(this.usage),
          } as ChatChunk,
        ];
      default:
        // ping, and event types added later: clients must ignore them, and so does this.
        return [];
    }
  }
}
