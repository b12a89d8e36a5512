/**
 * The OpenAI Responses API bridged to chat completions, so that every upstream (OpenAI-compatible
 * or Anthropic) serves it and routing works as for chat:
 * - request: `instructions` (a system message), `input` as text or items (messages with
 *   input_text / input_image / input_file parts, earlier assistant messages, function_call and
 *   function_call_output items, item_reference to an item this proxy returned), flat function
 *   tools and tool_choice, `max_output_tokens`, `text.format`, `reasoning.effort`, sampling;
 *   hosted tools and items semroute cannot carry are refused, naming them;
 * - answer: a Response object with `message` (output_text, annotations: []) and `function_call`
 *   items, `usage`, `status` and `incomplete_details` as the Responses API writes them.
 * The field shapes follow the openai SDK's types and what the AI SDK, LangChain and the openai
 * client read (docs/clients.md).
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, SemrouteError } from '../../errors.js';
import type { ChatBody, ChatCompletion } from '../../gateway/types.js';

type Json = Record<string, unknown>;
type ChatMessage = Json & { role: string };

export const newId = (prefix: string) => `${prefix}_${randomBytes(24).toString('hex')}`;

const invalid = (path: string, message: string, expected?: string) =>
  new SemrouteError(ErrorCode.INPUT_INVALID, `${path}: ${message}`, { path, expected });

/** Fields of a Responses request this bridge cannot serve, and why. */
const REFUSED: Readonly<Record<string, string>> = {
  background: 'background responses are not kept by semroute',
  conversation:
    'the Conversations API is not served by semroute: send previous_response_id or the whole input',
  prompt: 'stored prompts are OpenAI-side objects semroute cannot read',
};

/** Chat parameters of the same name and meaning. */
const PASSED = [
  'temperature',
  'top_p',
  'parallel_tool_calls',
  'user',
  'metadata',
  'service_tier',
  'safety_identifier',
  'prompt_cache_key',
  'tags',
  'timeout',
  'session_id',
] as const;

/** An earlier item, looked up by id (item_reference), or the chat history of a stored response. */
export interface ConversationStore {
  item(id: string): Promise<ChatMessage[] | undefined>;
  history(responseId: string): Promise<ChatMessage[] | undefined>;
}

function contentParts(content: unknown, path: string): string | Json[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalid(`${path}.content`, 'must be text or a list of parts');
  return (content as Json[]).map((part, j) => {
    const at = `${path}.content[${j}]`;
    switch (part?.type) {
      case 'input_text':
      case 'output_text':
      case 'text':
        return { type: 'text', text: String(part.text ?? '') };
      case 'refusal':
        return { type: 'text', text: String(part.refusal ?? '') };
      case 'input_image': {
        if (typeof part.image_url !== 'string')
          throw invalid(
            `${at}.image_url`,
            'images by file_id are not available through semroute',
            'an image_url (https: or data:)',
          );
        return {
          type: 'image_url',
          image_url: { url: part.image_url, ...(part.detail ? { detail: part.detail } : {}) },
        };
      }
      case 'input_file': {
        if (typeof part.file_data !== 'string')
          throw invalid(
            `${at}.file_data`,
            'files by file_id or file_url are not available through semroute',
            'file_data (a data: URL)',
          );
        return {
          type: 'file',
          file: { file_data: part.file_data, ...(part.filename ? { filename: part.filename } : {}) },
        };
      }
      default:
        throw invalid(
          `${at}.type`,
          `"${String(part?.type)}" parts are not available through semroute`,
          'input_text, input_image or input_file',
        );
    }
  });
}

/** Text of parts (assistant history, tool output), joined. */
function partsText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (content as Json[])
    .map((p) => (typeof p?.text === 'string' ? p.text : typeof p?.refusal === 'string' ? p.refusal : ''))
    .join('');
}

/** One input item as chat messages. */
async function itemMessages(item: Json, path: string, store: ConversationStore): Promise<ChatMessage[]> {
  const type = item?.type ?? (item?.role !== undefined ? 'message' : undefined);
  switch (type) {
    case 'message': {
      const role = String(item.role);
      if (role === 'assistant') return [{ role: 'assistant', content: partsText(item.content) }];
      if (!['user', 'system', 'developer'].includes(role))
        throw invalid(
          `${path}.role`,
          `"${role}" is not a message role`,
          'user, assistant, system or developer',
        );
      return [{ role, content: contentParts(item.content, path) }];
    }
    case 'function_call':
      return [
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: String(item.call_id),
              type: 'function',
              function: { name: String(item.name), arguments: String(item.arguments ?? '') },
            },
          ],
        },
      ];
    case 'function_call_output':
      return [
        {
          role: 'tool',
          tool_call_id: String(item.call_id),
          content: typeof item.output === 'string' ? item.output : partsText(item.output),
        },
      ];
    case 'item_reference': {
      const found = typeof item.id === 'string' ? await store.item(item.id) : undefined;
      if (found === undefined) {
        throw new SemrouteError(
          ErrorCode.INPUT_INVALID,
          `${path}: Item with id '${String(item.id)}' not found (semroute keeps the items it returned for a while; send the whole item, or store: false in the client)`,
          { path: `${path}.id`, expected: 'the id of an item this proxy returned recently' },
        );
      }
      return found;
    }
    case 'reasoning':
      // Reasoning an upstream produced is not sent back through chat completions.
      return [];
    default:
      throw invalid(
        `${path}.type`,
        `"${String(type)}" items are not available through semroute`,
        'message, function_call, function_call_output or item_reference',
      );
  }
}

/** Neighbouring assistant messages (text, then its tool calls) as one, as chat expects them. */
function mergeAssistants(messages: ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of messages) {
    const last = out.at(-1);
    if (m.role === 'assistant' && last?.role === 'assistant' && m.tool_calls !== undefined) {
      last.tool_calls = [...((last.tool_calls as Json[] | undefined) ?? []), ...(m.tool_calls as Json[])];
      if (m.content) last.content = `${last.content ?? ''}${m.content}`;
      continue;
    }
    out.push({ ...m });
  }
  return out;
}

function tools(list: unknown): Json[] | undefined {
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) throw invalid('tools', 'must be a list');
  return (list as Json[]).map((tool, i) => {
    if (tool?.type !== 'function')
      throw invalid(
        `tools[${i}].type`,
        `"${String(tool?.type)}" tools run at OpenAI and are not available through semroute`,
        'function',
      );
    const parameters = tool.parameters as Json | null | undefined;
    let schema: Json | undefined;
    if (parameters !== null && parameters !== undefined) {
      // A $schema key inside parameters is refused by some upstreams; it says nothing they need.
      const { $schema: _, ...rest } = parameters;
      schema = rest;
    }
    return {
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description === undefined || tool.description === null
          ? {}
          : { description: tool.description }),
        ...(schema === undefined ? {} : { parameters: schema }),
        ...(typeof tool.strict === 'boolean' ? { strict: tool.strict } : {}),
      },
    };
  });
}

function toolChoice(choice: unknown): unknown {
  if (choice === undefined || choice === null || typeof choice === 'string') return choice ?? undefined;
  const c = choice as Json;
  if (c.type === 'function') return { type: 'function', function: { name: c.name } };
  if (c.type === 'allowed_tools') return c.mode;
  throw invalid(
    'tool_choice.type',
    `"${String(c.type)}" is not available through semroute`,
    'auto, none, required or a function',
  );
}

function responseFormat(text: unknown): unknown {
  const format = (text as { format?: Json } | null | undefined)?.format;
  if (format === undefined || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') {
    return {
      type: 'json_schema',
      json_schema: {
        name: format.name ?? 'response',
        schema: format.schema,
        ...(format.strict === undefined || format.strict === null ? {} : { strict: format.strict }),
        ...(format.description === undefined ? {} : { description: format.description }),
      },
    };
  }
  throw invalid(
    'text.format.type',
    `"${String(format.type)}" is not a response format`,
    'text, json_object or json_schema',
  );
}

export interface BridgedRequest {
  chat: ChatBody & { model: string };
  /** The conversation before the answer (without instructions), kept for previous_response_id. */
  history: ChatMessage[];
}

/** A Responses request as a chat request. */
export async function toChatRequest(
  body: Json & { model: string },
  store: ConversationStore,
): Promise<BridgedRequest> {
  for (const [field, why] of Object.entries(REFUSED)) {
    if (body[field] !== undefined && body[field] !== null && body[field] !== false) throw invalid(field, why);
  }
  const history: ChatMessage[] = [];
  if (typeof body.previous_response_id === 'string') {
    const before = await store.history(body.previous_response_id);
    if (before === undefined) {
      throw new SemrouteError(
        ErrorCode.INPUT_INVALID,
        `previous_response_id: Previous response with id '${body.previous_response_id}' not found (semroute keeps stored responses for a while)`,
        {
          path: 'previous_response_id',
          expected: 'the id of a response this proxy returned recently, with store not false',
        },
      );
    }
    history.push(...before);
  }
  const input = body.input;
  if (typeof input === 'string') history.push({ role: 'user', content: input });
  else if (Array.isArray(input)) {
    for (const [i, item] of (input as Json[]).entries())
      history.push(...(await itemMessages(item, `input[${i}]`, store)));
  } else if (input !== undefined && input !== null) throw invalid('input', 'must be text or a list of items');
  const merged = mergeAssistants(history);
  if (merged.length === 0) throw invalid('input', 'is empty: nothing to answer', 'text or a list of items');
  const messages: ChatMessage[] =
    typeof body.instructions === 'string' && body.instructions !== ''
      ? [{ role: 'system', content: body.instructions }, ...merged]
      : merged;
  const chat: Json = { model: body.model, messages };
  for (const key of PASSED) if (body[key] !== undefined && body[key] !== null) chat[key] = body[key];
  if (typeof body.max_output_tokens === 'number') chat.max_tokens = body.max_output_tokens;
  const mapped = tools(body.tools);
  if (mapped !== undefined && mapped.length > 0) chat.tools = mapped;
  const choice = toolChoice(body.tool_choice);
  if (choice !== undefined && mapped !== undefined && mapped.length > 0) chat.tool_choice = choice;
  const format = responseFormat(body.text);
  if (format !== undefined) chat.response_format = format;
  const verbosity = (body.text as { verbosity?: unknown } | undefined)?.verbosity;
  if (typeof verbosity === 'string') chat.verbosity = verbosity;
  const effort = (body.reasoning as { effort?: unknown } | undefined)?.effort;
  if (typeof effort === 'string') chat.reasoning_effort = effort;
  if (typeof body.top_logprobs === 'number') {
    chat.logprobs = true;
    chat.top_logprobs = body.top_logprobs;
  }
  if (body.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return { chat: chat as ChatBody & { model: string }, history: merged };
}

/** The Response object's usage from chat usage. */
export function usageOf(usage: ChatCompletion['usage'] | null | undefined): Json {
  const input = usage?.prompt_tokens ?? 0;
  const output = usage?.completion_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage?.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage?.total_tokens ?? input + output,
  };
}

/** status and incomplete_details from a finish reason. */
export function completion(finish: string | null | undefined): {
  status: string;
  incomplete_details: Json | null;
} {
  if (finish === 'length')
    return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter')
    return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/** The fields every Response object carries, from the request (openai's type marks them required). */
export function responseShell(id: string, body: Json, model: string, createdAt: number): Json {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model,
    output: [],
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: (body.reasoning as Json | undefined)?.effort ?? null, summary: null },
    store: body.store !== false,
    temperature: body.temperature ?? 1,
    text: { format: (body.text as Json | undefined)?.format ?? { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: body.truncation ?? 'disabled',
    usage: null,
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
}

export const textPart = (text: string) => ({ type: 'output_text', text, annotations: [], logprobs: [] });

/** A chat completion as the output items of a Response. */
export function outputItems(response: ChatCompletion): Json[] {
  const message = response.choices[0]?.message;
  const items: Json[] = [];
  const text = message?.content ?? '';
  const calls = message?.tool_calls ?? [];
  const finish = response.choices[0]?.finish_reason;
  if (text !== '' || calls.length === 0) {
    items.push({
      id: newId('msg'),
      type: 'message',
      status: finish === 'length' ? 'incomplete' : 'completed',
      role: 'assistant',
      content: [textPart(text)],
    });
  }
  for (const call of calls) {
    if (call.type !== 'function') continue;
    items.push({
      id: newId('fc'),
      type: 'function_call',
      status: 'completed',
      call_id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
    });
  }
  return items;
}

/** The chat form of output items (what a later request's history holds). */
export function itemsAsMessages(items: readonly Json[]): ChatMessage[] {
  const text = items
    .filter((i) => i.type === 'message')
    .map((i) => partsText(i.content))
    .join('');
  const calls = items
    .filter((i) => i.type === 'function_call')
    .map((i) => ({ id: i.call_id, type: 'function', function: { name: i.name, arguments: i.arguments } }));
  return [
    {
      role: 'assistant',
      content: text === '' && calls.length > 0 ? null : text,
      ...(calls.length > 0 ? { tool_calls: calls } : {}),
    },
  ];
}
