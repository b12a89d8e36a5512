/**
 * `POST /v1/messages` (Anthropic's Messages API, inbound), for the Anthropic SDK and tools built
 * on it: the request becomes a chat request for any model group (messages-bridge.ts), routed,
 * retried and falling back as chat is; the answer is a Message, or the Messages event stream;
 * errors are in Anthropic's shape. `POST /v1/messages/count_tokens` answers an estimate
 * (about four characters a token), since the upstream that will serve is not known until routed.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ChatChunk, ChatCompletion } from '../../gateway/types.js';
import { anthropicError } from '../openai-errors.js';
import { validate } from '../validate.js';
import type { Dialect } from './dialect.js';
import { errorEvent, estimateTokens, MessagesStream, toChatRequest, toMessage } from './messages-bridge.js';

const MessagesRequestSchema = z.looseObject({
  model: z.string().min(1, 'model: Field required'),
  max_tokens: z.number('max_tokens: Field required').int().min(0),
  messages: z
    .array(z.looseObject({ role: z.string() }), 'messages: Field required')
    .min(1, 'messages: at least one message is required'),
  stream: z.boolean().nullish(),
});

const CountSchema = MessagesRequestSchema.omit({ max_tokens: true, stream: true });

type MessagesRequest = ReturnType<typeof toChatRequest> & { model: string };

export const messagesDialect: Dialect<MessagesRequest, ChatCompletion, ChatChunk> = {
  endpoint: 'messages',
  paths: ['/v1/messages'],
  parse: (body) =>
    toChatRequest(validate(MessagesRequestSchema, body) as Record<string, unknown> & { model: string }),
  run: (gateway, request, options) => gateway.chatCompletion(request, options),
  answer: (response, _request, served) => toMessage(response, served.model),
  stream(chunks, _request, served) {
    const events = new MessagesStream(served.model);
    return {
      frames: (async function* () {
        yield* events.start();
        for await (const chunk of chunks) yield* events.push(chunk);
        yield* events.end();
      })(),
      error: (status, error) => errorEvent(status, error.error.message),
    };
  },
  errorBody: (status, error) => anthropicError(status, error.error.message),
};

export function registerCountTokens(app: FastifyInstance): void {
  app.post('/v1/messages/count_tokens', async (request, reply) => {
    try {
      const body = validate(CountSchema, request.body);
      return { input_tokens: estimateTokens(body) };
    } catch (error) {
      return reply.code(400).send(anthropicError(400, (error as Error).message));
    }
  });
}
