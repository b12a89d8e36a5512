/** The OpenAI-compatible wire: OpenAI itself, Azure OpenAI and every compatible host. */
import { withFields } from '../../internal/objects.js';
import { callChat, callEmbedding } from './exchange.js';
import { sseEvents } from './sse.js';
import { openStream } from './stream.js';
import type { Wire } from './wire.js';

export const openaiWire: Wire = {
  // Every OpenAI parameter is the host's to take or refuse: nothing is dropped here.
  chat: (client, d, body, options) => callChat(client, d, body, options),
  openStream: (client, d, body, options) =>
    openStream(client, d, '/chat/completions', withFields(body, { stream: true }), options, sseEvents),
  embedding: callEmbedding,
};
