/**
 * OpenAI chat completions ⇄ Cohere's Chat API v2 (`POST /v2/chat`), as Cohere documents it and
 * as LiteLLM maps it:
 * - request: roles as they are (system, user, assistant, tool; developer → system); content
 *   text or parts (text, image_url); assistant tool calls and tool results in OpenAI's own
 *   shape, which v2 shares; tools as they are; max_tokens / max_completion_tokens → max_tokens,
 *   top_p → p, top_k → k, stop → stop_sequences, tool_choice required/none → REQUIRED/NONE,
 *   response_format → json_object (with its schema), logprobs; parameters Cohere has no
 *   equivalent for refused (or dropped with drop_params); Cohere's own fields (documents,
 *   safety_mode, citation_options, …) sent as they are.
 * - answer: text parts, tool calls, finish_reason (COMPLETE, STOP_SEQUENCE → stop, MAX_TOKENS →
 *   length, TOOL_CALL → tool_calls), usage from `usage.tokens` (billed units when absent).
 * - stream: message-start … message-end events into OpenAI chunks; tool calls numbered in the
 *   order they start; usage in a last chunk when the client asked for it.
 */
import { ErrorCode, SemrouteError } from '../../errors.js';
import type { ChatBody, ChatChunk, ChatCompletion } from '../types.js';

type Json = Record<string, unknown>;

/** OpenAI parameters Chat v2 has no equivalent for. */
export const COHERE_UNSUPPORTED: ReadonlySet<string> = new Set([
  'logit_bias',
  'top_logprobs',
  'n',
  'modalities',
  'audio',
  'prediction',
  'store',
  'web_search_options',
  'verbosity',
  'functions',
  'function_call',
  'parallel_tool_calls',
  'reasoning_effort',
  'service_tier',
]);

/** Fields this translation maps or that never go upstream. */
const MAPPED = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'top_p',
  'top_k',
  'stop',
  'tools',
  'tool_choice',
  'response_format',
  'logprobs',
  // OpenAI's end-user id: metadata for the proxy, nothing Cohere takes.
  'user',
  'metadata',
]);

const invalid = (path: string, message: string, expected?: string) =>
  new SemrouteError(ErrorCode.INPUT_INVALID, `${path}: ${message}`, { path, expected });

function userContent(content: unknown, path: string): unknown {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalid(path, 'content must be text or a list of parts');
  return content.map((part, i) => {
    const p = part as Json;
    if (p?.type === 'text') return { type: 'text', text: String(p.text ?? '') };
    if (p?.type === 'image_url') {
      const url = typeof p.image_url === 'string' ? p.image_url : (p.image_url as Json | undefined)?.url;
      if (typeof url !== 'string') throw invalid(`${path}[${i}].image_url.url`, 'an image needs a URL');
      return { type: 'image_url', image_url: { url } };
    }
    throw invalid(`${path}[${i}].type`, `Cohere takes text and image_url parts, not ${String(p?.type)}`);
  });
}

/** Text of a content that may be parts (system and tool messages take text). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((p) => ((p as Json)?.type === 'text' ? String((p as Json).text ?? '') : '')).join('');
  return content === null || content === undefined ? '' : JSON.stringify(content);
}

function messages(list: unknown[]): Json[] {
  return list.map((raw, i) => {
    const m = raw as Json;
    const path = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: textOf(m.content) };
      case 'user':
        return { role: 'user', content: userContent(m.content, `${path}.content`) };
      case 'assistant': {
        const out: Json = { role: 'assistant' };
        const text = textOf(m.content);
        if (text !== '') out.content = text;
        if (Array.isArray(m.tool_calls) && m.tool_calls.length > 0)
          out.tool_calls = m.tool_calls.map((c) => {
            const call = c as Json;
            const fn = (call.function ?? {}) as Json;
            return {
              id: call.id,
              type: 'function',
              function: { name: fn.name, arguments: typeof fn.arguments === 'string' ? fn.arguments : '{}' },
            };
          });
        if (out.content === undefined && out.tool_calls === undefined)
          throw invalid(`${path}.content`, 'an assistant message needs text or tool calls');
        return out;
      }
      case 'tool':
        if (typeof m.tool_call_id !== 'string')
          throw invalid(`${path}.tool_call_id`, 'a tool message names the call it answers');
        return { role: 'tool', tool_call_id: m.tool_call_id, content: textOf(m.content) };
      default:
        throw invalid(`${path}.role`, `Cohere takes system, user, assistant and tool, not ${String(m.role)}`);
    }
  });
}

function toolChoice(choice: unknown): string | undefined {
  if (choice === undefined || choice === null || choice === 'auto') return undefined;
  if (choice === 'required') return 'REQUIRED';
  if (choice === 'none') return 'NONE';
  throw invalid(
    'tool_choice',
    'Cohere can require a tool call or forbid one, not name the tool',
    'auto, required or none',
  );
}

function responseFormat(format: unknown): Json | undefined {
  const f = format as Json | undefined;
  if (f === undefined || f === null || f.type === 'text') return undefined;
  if (f.type === 'json_object') return { type: 'json_object' };
  if (f.type === 'json_schema') {
    const schema = (f.json_schema as Json | undefined)?.schema;
    return schema === undefined ? { type: 'json_object' } : { type: 'json_object', json_schema: schema };
  }
  throw invalid(
    'response_format.type',
    `unknown response format ${String(f.type)}`,
    'text, json_object or json_schema',
  );
}

/** The Chat v2 body of an OpenAI chat request (stream set by the caller). */
export function toCohereChat(body: ChatBody & { model: string }, drop: boolean): Json {
  const out: Json = { model: body.model, messages: messages(body.messages) };
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined || MAPPED.has(key)) continue;
    if (COHERE_UNSUPPORTED.has(key)) {
      if (drop) continue;
      throw invalid(key, `Cohere has no ${key} (set drop_params to drop it)`);
    }
    out[key] = value;
  }
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) out.max_tokens = maxTokens;
  if (body.top_p !== undefined && body.top_p !== null) out.p = body.top_p;
  if (body.top_k !== undefined && body.top_k !== null) out.k = body.top_k;
  if (body.stop !== undefined && body.stop !== null)
    out.stop_sequences = Array.isArray(body.stop) ? body.stop : [body.stop];
  if (Array.isArray(body.tools) && body.tools.length > 0) out.tools = body.tools;
  const choice = toolChoice(body.tool_choice);
  if (choice !== undefined) out.tool_choice = choice;
  const format = responseFormat(body.response_format);
  if (format !== undefined) out.response_format = format;
  if (body.logprobs === true) out.logprobs = true;
  return out;
}

export function finishReason(reason: unknown): ChatCompletion['choices'][number]['finish_reason'] {
  switch (reason) {
    case 'MAX_TOKENS':
      return 'length';
    case 'TOOL_CALL':
      return 'tool_calls';
    default:
      return 'stop';
  }
}

interface CohereUsage {
  tokens?: { input_tokens?: number; output_tokens?: number };
  billed_units?: { input_tokens?: number; output_tokens?: number };
}

export function usageOf(usage: CohereUsage | undefined): NonNullable<ChatCompletion['usage']> {
  const prompt = usage?.tokens?.input_tokens ?? usage?.billed_units?.input_tokens ?? 0;
  const completion = usage?.tokens?.output_tokens ?? usage?.billed_units?.output_tokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

type ToolCall = NonNullable<ChatCompletion['choices'][number]['message']['tool_calls']>[number];

/** An OpenAI chat completion from a Chat v2 answer. */
export function fromCohereChat(answer: Json, model: string): ChatCompletion {
  const message = (answer.message ?? {}) as Json;
  const parts = Array.isArray(message.content) ? (message.content as Json[]) : [];
  const text = parts
    .filter((p) => p.type === 'text')
    .map((p) => String(p.text ?? ''))
    .join('');
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : [];
  const toolCalls = calls.map(
    (c) =>
      ({
        id: String(c.id),
        type: 'function',
        function: {
          name: String((c.function as Json | undefined)?.name ?? ''),
          arguments: String((c.function as Json | undefined)?.arguments ?? '{}'),
        },
      }) as ToolCall,
  );
  return {
    id: String(answer.id ?? `chatcmpl-cohere-${nowSeconds()}`),
    object: 'chat.completion',
    created: nowSeconds(),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text === '' && toolCalls.length > 0 ? null : text,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: finishReason(answer.finish_reason),
        logprobs: null,
      },
    ],
    usage: usageOf(answer.usage as CohereUsage | undefined),
  };
}

/** Chat v2 stream events in, OpenAI chunks out; one translator per stream. */
export class CohereStreamTranslator {
  private id = `chatcmpl-cohere-${nowSeconds()}`;
  private readonly created = nowSeconds();
  /** The OpenAI index of the tool call being streamed (calls are numbered as they start). */
  private tool = -1;

  constructor(
    private readonly model: string,
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

  /** The chunks one event gives (none for events OpenAI has no place for). */
  *push(type: string, event: Json): Generator<ChatChunk> {
    const delta = (event.delta ?? {}) as Json;
    const message = (delta.message ?? {}) as Json;
    switch (type) {
      case 'message-start':
        if (typeof event.id === 'string') this.id = event.id;
        yield this.chunk({ role: 'assistant', content: '' });
        return;
      case 'content-delta': {
        const text = (message.content as Json | undefined)?.text;
        if (typeof text === 'string' && text !== '') yield this.chunk({ content: text });
        return;
      }
      case 'tool-call-start': {
        const call = (message.tool_calls ?? {}) as Json;
        const fn = (call.function ?? {}) as Json;
        this.tool += 1;
        yield this.chunk({
          tool_calls: [
            {
              index: this.tool,
              id: call.id,
              type: 'function',
              function: { name: fn.name, arguments: typeof fn.arguments === 'string' ? fn.arguments : '' },
            },
          ],
        });
        return;
      }
      case 'tool-call-delta': {
        const args = ((message.tool_calls as Json | undefined)?.function as Json | undefined)?.arguments;
        if (typeof args === 'string' && args !== '')
          yield this.chunk({ tool_calls: [{ index: this.tool, function: { arguments: args } }] });
        return;
      }
      case 'message-end': {
        yield this.chunk({}, finishReason(delta.finish_reason));
        if (this.includeUsage)
          yield {
            id: this.id,
            object: 'chat.completion.chunk',
            created: this.created,
            model: this.model,
            choices: [],
            usage: usageOf(delta.usage as CohereUsage | undefined),
          } as ChatChunk;
        return;
      }
      default:
        // content-start/end, tool-plan-delta, tool-call-end, citations, debug: nothing to say.
        return;
    }
  }
}
