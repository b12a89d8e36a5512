/** `POST /v1/chat/completions` (and `/chat/completions`): JSON or OpenAI SSE, as the SDKs expect. */
import type { ChatBody, ChatChunk, ChatCompletion } from '../../gateway/types.js';
import { validateChat } from '../validate.js';
import { type Dialect, dataFrame } from './dialect.js';

export const chatDialect: Dialect<ChatBody & { model: string }, ChatCompletion, ChatChunk> = {
  endpoint: 'chat',
  paths: ['/v1/chat/completions', '/chat/completions'],
  parse: (body) => validateChat(body),
  run: (gateway, request, options) => gateway.chatCompletion(request, options),
  answer: (response) => response,
  stream: (chunks) => ({
    frames: (async function* () {
      for await (const chunk of chunks) yield dataFrame(chunk);
      yield 'data: [DONE]\n\n';
    })(),
    error: (_status, error) => dataFrame(error),
  }),
};
