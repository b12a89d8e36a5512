/**
 * `POST /v1/responses` (OpenAI's Responses API), bridged to chat completions (responses-bridge.ts)
 * so that semantic routing, `auto`, aliases, fallbacks, retries, cooldowns, virtual keys and
 * metrics apply as for chat, whatever the upstream speaks. `store` (the API's default) keeps the
 * conversation and every returned item in the state store (memory, or Redis when shared) for
 * `general_settings.responses_ttl_seconds`, scoped to the caller's key: `previous_response_id`
 * and `item_reference` read them back; `store: false` keeps nothing.
 */
import { z } from 'zod';
import type { ChatChunk, ChatCompletion } from '../../gateway/types.js';
import type { ConversationStore as ConversationRoom } from '../../gateway/state/state-store.js';
import type { ServerContext } from '../context.js';
import { validate } from '../validate.js';
import type { Dialect } from './dialect.js';
import {
  type BridgedRequest,
  completion,
  type ConversationStore,
  itemsAsMessages,
  newId,
  outputItems,
  responseShell,
  toChatRequest,
  usageOf,
} from './responses-bridge.js';
import { ResponsesStream } from './responses-stream.js';

const ResponsesRequestSchema = z.looseObject({
  model: z.string().min(1, 'model is required'),
  input: z
    .union([z.string(), z.array(z.looseObject({}))], 'input must be text or a list of items')
    .optional(),
  instructions: z.string().nullish(),
  previous_response_id: z.string().nullish(),
  stream: z.boolean().nullish(),
  store: z.boolean().nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
});

/** Largest conversation kept for previous_response_id, bytes of JSON. */
const MAX_STORED = 2 * 1024 * 1024;

interface ResponsesRequest {
  model: string;
  body: Record<string, unknown> & { model: string };
  bridged: BridgedRequest;
  id: string;
  createdAt: number;
  keep: (output: Record<string, unknown>[]) => Promise<void>;
}

type Message = Record<string, unknown> & { role: string };

/**
 * The stored conversations and items of one caller, in the state store's conversation room:
 * scoped to the caller, within its own quota (one tenant's traffic never evicts another's).
 */
function conversations(store: ConversationRoom, caller: string, ttlMs: number) {
  const read = async (id: string) => {
    const text = await store.getConversation(caller, id);
    return text === undefined ? undefined : (JSON.parse(text) as Message[]);
  };
  const write = async (id: string, value: unknown) => {
    const text = JSON.stringify(value);
    if (text.length <= MAX_STORED) await store.putConversation(caller, id, text, ttlMs);
  };
  const lookup: ConversationStore = {
    item: (id) => read(`item:${id}`),
    history: (id) => read(`response:${id}`),
  };
  return {
    lookup,
    keep: (id: string, history: Message[], output: Record<string, unknown>[]) =>
      Promise.all([
        write(`response:${id}`, [...history, ...itemsAsMessages(output)]),
        ...output.map((item) => write(`item:${String(item.id)}`, itemsAsMessages([item]))),
      ]).then(() => undefined),
  };
}

export function responsesDialect(
  context: ServerContext,
): Dialect<ResponsesRequest, ChatCompletion, ChatChunk> {
  const { runtime } = context;
  return {
    endpoint: 'responses',
    paths: ['/v1/responses', '/responses'],
    async parse(raw, request) {
      const body = validate(ResponsesRequestSchema, raw) as ResponsesRequest['body'];
      const ttlMs = runtime.serving.config.general.responses_ttl_seconds * 1000;
      const store = conversations(runtime.store, request.caller ?? '-', ttlMs);
      const bridged = await toChatRequest(body, store.lookup);
      const id = newId('resp');
      return {
        model: body.model,
        body,
        bridged,
        id,
        createdAt: Math.floor(Date.now() / 1000),
        keep: (output) =>
          body.store === false ? Promise.resolve() : store.keep(id, bridged.history, output),
      };
    },
    run: (gateway, request, options) => gateway.chatCompletion(request.bridged.chat, options),
    async answer(response, request, served) {
      const output = outputItems(response);
      await request.keep(output);
      return {
        ...responseShell(request.id, request.body, served.model, request.createdAt),
        ...completion(response.choices[0]?.finish_reason),
        output,
        usage: usageOf(response.usage),
      };
    },
    stream(chunks, request, served) {
      const events = new ResponsesStream(
        responseShell(request.id, request.body, served.model, request.createdAt),
      );
      return {
        frames: (async function* () {
          yield* events.start();
          for await (const chunk of chunks) yield* events.push(chunk);
          const end = events.end();
          await request.keep(end.output);
          yield* end.frames;
        })(),
        error: (status, error) =>
          events.failed(status === 429 ? 'rate_limit_exceeded' : 'server_error', error.error.message),
      };
    },
  };
}
