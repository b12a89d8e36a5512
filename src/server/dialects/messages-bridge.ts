/**
 * Anthropic's Messages API served to Anthropic clients (the inverse of the outbound adapter,
 * gateway/upstream/anthropic-translate.ts): a Messages request as a chat request for the gateway
 * (system blocks, text, images, PDFs, tool_use and tool_result, tools and tool_choice, stop
 * sequences, thinking), and the chat answer back as a Message, or as the Messages event stream
 * (message_start, ping, content blocks with text and input_json deltas, message_delta with
 * usage, message_stop).
 */
import { ErrorCode, SemrouteError } from '../../errors.js';
import type { ChatBody, ChatChunk, ChatCompletion } from '../../gateway/types.js';
import { newId } from './responses-bridge.js';
import { anthropicErrorType } from '../openai-errors.js';

type Json = Record<string, unknown>;
type Message = Json & { role: string };

const invalid = (path: string, message: string, expected?: string) =>
  new SemrouteError(ErrorCode.INPUT_INVALID, `${path}: ${message}`, { path, expected });

/** Request fields that are hints to Anthropic's own serving, with no meaning elsewhere. */
const HINTS = new Set([
  'service_tier',
  'cache_control',
  'speed',
  'inference_geo',
  'output_config',
  'diagnostics',
]);
const MAPPED = new Set([
  'model',
  'messages',
  'system',
  'max_tokens',
  'stop_sequences',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'metadata',
  'tools',
  'tool_choice',
  'thinking',
]);

function withCache(part: Json, from: Json): Json {
  return from.cache_control === undefined ? part : { ...part, cache_control: from.cache_control };
}

function sourceUrl(source: Json, path: string): string {
  if (source.type === 'base64') return `data:${String(source.media_type)};base64,${String(source.data)}`;
  if (source.type === 'url' && typeof source.url === 'string') return source.url;
  throw invalid(
    `${path}.source.type`,
    `"${String(source.type)}" sources are not available through semroute`,
    'base64 or url',
  );
}

/** A user turn's blocks: tool results (as tool messages, first) and the rest (one user message). */
function userMessages(content: unknown, path: string): Message[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  if (!Array.isArray(content)) throw invalid(`${path}.content`, 'must be text or a list of blocks');
  const tools: Message[] = [];
  const parts: Json[] = [];
  (content as Json[]).forEach((block, j) => {
    const at = `${path}.content[${j}]`;
    switch (block?.type) {
      case 'text':
        parts.push(withCache({ type: 'text', text: String(block.text ?? '') }, block));
        break;
      case 'image':
        parts.push(
          withCache(
            { type: 'image_url', image_url: { url: sourceUrl((block.source ?? {}) as Json, at) } },
            block,
          ),
        );
        break;
      case 'document': {
        const source = (block.source ?? {}) as Json;
        if (source.type === 'text') parts.push({ type: 'text', text: String(source.data ?? '') });
        else
          parts.push(
            withCache(
              {
                type: 'file',
                file: { filename: String(block.title ?? 'document.pdf'), file_data: sourceUrl(source, at) },
              },
              block,
            ),
          );
        break;
      }
      case 'tool_result': {
        const result = block.content;
        const text =
          typeof result === 'string'
            ? result
            : Array.isArray(result)
              ? (result as Json[]).map((r) => (r?.type === 'text' ? String(r.text ?? '') : '')).join('')
              : '';
        tools.push(
          withCache(
            {
              role: 'tool',
              tool_call_id: String(block.tool_use_id),
              content: block.is_error === true ? `Error: ${text}` : text,
            },
            block,
          ) as Message,
        );
        break;
      }
      default:
        throw invalid(
          `${at}.type`,
          `"${String(block?.type)}" blocks are not available through semroute`,
          'text, image, document or tool_result',
        );
    }
  });
  return parts.length > 0 ? [...tools, { role: 'user', content: parts }] : tools;
}

function assistantMessage(content: unknown, path: string): Message {
  if (typeof content === 'string') return { role: 'assistant', content };
  if (!Array.isArray(content)) throw invalid(`${path}.content`, 'must be text or a list of blocks');
  let text = '';
  const calls: Json[] = [];
  for (const block of content as Json[]) {
    if (block?.type === 'text') text += String(block.text ?? '');
    else if (block?.type === 'tool_use')
      calls.push({
        id: String(block.id),
        type: 'function',
        function: { name: String(block.name), arguments: JSON.stringify(block.input ?? {}) },
      });
    // Thinking blocks are the upstream's own; they are not sent on through chat completions.
  }
  return {
    role: 'assistant',
    content: text === '' && calls.length > 0 ? null : text,
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
  };
}

function systemContent(system: unknown): string | Json[] {
  if (typeof system === 'string') return system;
  if (!Array.isArray(system)) throw invalid('system', 'must be text or a list of text blocks');
  return (system as Json[]).map((b) => withCache({ type: 'text', text: String(b?.text ?? '') }, b));
}

/** A Messages request as a chat request. */
export function toChatRequest(body: Json & { model: string }): ChatBody & { model: string } {
  for (const key of Object.keys(body)) {
    if (!MAPPED.has(key) && !HINTS.has(key))
      throw invalid(key, 'Extra inputs are not permitted (not available through semroute)');
  }
  const messages: Message[] = [];
  if (body.system !== undefined) messages.push({ role: 'system', content: systemContent(body.system) });
  (body.messages as Json[]).forEach((m, i) => {
    const path = `messages[${i}]`;
    if (m?.role === 'user') messages.push(...userMessages(m.content, path));
    else if (m?.role === 'assistant') messages.push(assistantMessage(m.content, path));
    else if (m?.role === 'system') messages.push({ role: 'system', content: systemContent(m.content) });
    else throw invalid(`${path}.role`, `"${String(m?.role)}" is not a role`, 'user or assistant');
  });
  const chat: Json = { model: body.model, messages, max_tokens: body.max_tokens };
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length > 0) chat.stop = body.stop_sequences;
  for (const key of ['temperature', 'top_p', 'top_k'] as const)
    if (body[key] !== undefined) chat[key] = body[key];
  const user = (body.metadata as { user_id?: unknown } | undefined)?.user_id;
  if (typeof user === 'string') chat.user = user;
  if (Array.isArray(body.tools)) {
    chat.tools = (body.tools as Json[]).map((tool, i) => {
      if (tool?.input_schema === undefined)
        throw invalid(
          `tools[${i}]`,
          `server tool "${String(tool?.type ?? tool?.name)}" runs at Anthropic and is not available through semroute`,
          'a tool with input_schema',
        );
      return {
        type: 'function',
        function: {
          name: tool.name,
          ...(tool.description === undefined ? {} : { description: tool.description }),
          parameters: tool.input_schema,
        },
      };
    });
  }
  const choice = body.tool_choice as Json | undefined;
  if (choice !== undefined) {
    const mapped: Record<string, unknown> = { auto: 'auto', any: 'required', none: 'none' };
    chat.tool_choice =
      choice.type === 'tool'
        ? { type: 'function', function: { name: choice.name } }
        : mapped[String(choice.type)];
    if (choice.disable_parallel_tool_use === true) chat.parallel_tool_calls = false;
  }
  const thinking = body.thinking as { type?: string; budget_tokens?: number } | undefined;
  if (thinking?.type === 'enabled') {
    const budget = thinking.budget_tokens ?? 2048;
    chat.reasoning_effort = budget <= 1024 ? 'low' : budget <= 2048 ? 'medium' : 'high';
  } else if (thinking?.type === 'adaptive') chat.reasoning_effort = 'medium';
  if (body.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return chat as ChatBody & { model: string };
}

/** finish_reason → stop_reason. */
export function stopReason(finish: string | null | undefined): string {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/** Anthropic counts cached prompt tokens apart from input_tokens. */
export function anthropicUsage(usage: ChatCompletion['usage'] | null | undefined): Json {
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cached),
    output_tokens: usage?.completion_tokens ?? 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

function parseInput(args: string): Json {
  try {
    const value = JSON.parse(args || '{}') as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : { value };
  } catch {
    return { arguments: args };
  }
}

/** A chat answer as a Message. */
export function toMessage(response: ChatCompletion, model: string): Json {
  const choice = response.choices[0];
  const content: Json[] = [];
  const text = choice?.message.content ?? '';
  if (text !== '') content.push({ type: 'text', text, citations: null });
  for (const call of choice?.message.tool_calls ?? []) {
    if (call.type === 'function')
      content.push({
        type: 'tool_use',
        id: call.id,
        name: call.function.name,
        input: parseInput(call.function.arguments),
      });
  }
  return {
    id: newId('msg'),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason(choice?.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(response.usage),
  };
}

const frame = (type: string, data: Json) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/** Chat chunks as the Messages event stream. One instance per stream. */
export class MessagesStream {
  private block = -1;
  private open: 'text' | 'tool' | undefined;
  /** Chat tool call index → content block index. */
  private readonly tools = new Map<number, number>();
  private finish: string | null = null;
  private usage: ChatChunk['usage'] | undefined;

  constructor(private readonly model: string) {}

  start(): string[] {
    return [
      frame('message_start', {
        message: {
          id: newId('msg'),
          type: 'message',
          role: 'assistant',
          model: this.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: 0,
            output_tokens: 0,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
          },
        },
      }),
      frame('ping', {}),
    ];
  }

  private close(out: string[]): void {
    if (this.open === undefined) return;
    out.push(frame('content_block_stop', { index: this.block }));
    this.open = undefined;
  }

  push(chunk: ChatChunk): string[] {
    const out: string[] = [];
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (choice === undefined) return out;
    const delta = choice.delta ?? {};
    if (typeof delta.content === 'string' && delta.content !== '') {
      if (this.open !== 'text') {
        this.close(out);
        this.block++;
        this.open = 'text';
        out.push(
          frame('content_block_start', { index: this.block, content_block: { type: 'text', text: '' } }),
        );
      }
      out.push(
        frame('content_block_delta', {
          index: this.block,
          delta: { type: 'text_delta', text: delta.content },
        }),
      );
    }
    for (const call of delta.tool_calls ?? []) {
      let index = this.tools.get(call.index);
      if (index === undefined) {
        this.close(out);
        index = ++this.block;
        this.tools.set(call.index, index);
        this.open = 'tool';
        out.push(
          frame('content_block_start', {
            index,
            content_block: {
              type: 'tool_use',
              id: call.id ?? newId('toolu'),
              name: call.function?.name ?? '',
              input: {},
            },
          }),
        );
      }
      const args = call.function?.arguments ?? '';
      if (args !== '')
        out.push(
          frame('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: args } }),
        );
    }
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  end(): string[] {
    const out: string[] = [];
    this.close(out);
    const usage = anthropicUsage(this.usage);
    out.push(
      frame('message_delta', { delta: { stop_reason: stopReason(this.finish), stop_sequence: null }, usage }),
    );
    out.push(frame('message_stop', {}));
    return out;
  }
}

/** The Anthropic error type of an HTTP status. */
/** Anthropic's error type for a status (owned by openai-errors.ts, with every error shape). */
export const errorType = anthropicErrorType;

export const errorEvent = (status: number, message: string) =>
  frame('error', { error: { type: errorType(status), message } });

/** About how many tokens a request's text is (count_tokens): ~4 characters a token. */
export function estimateTokens(body: Json): number {
  const text = JSON.stringify([body.system ?? '', body.messages ?? [], body.tools ?? []]);
  return Math.max(1, Math.ceil(text.length / 4));
}
