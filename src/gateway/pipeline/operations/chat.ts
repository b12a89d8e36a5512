/** `chat/completions`: routed, cacheable, streamed or not, over any wire. */
import { estimateTokens } from '../../plan/request-body.js';
import type { ChatBody, ChatChunk, ChatCompletion } from '../../types.js';
import { relay } from '../../upstream/stream.js';
import { toUpstreamError } from '../../upstream/errors.js';
import type { UpstreamChatBody } from '../../upstream/wire.js';
import { type Operation, openaiUsage } from '../operation.js';

export const chatOperation: Operation<ChatBody, ChatCompletion, ChatChunk> = {
  endpoint: 'chat',
  capability: 'chat',
  cacheable: true,
  routingMessages: (body) => body.messages,
  estimate: estimateTokens,
  async call({ wire, client, deployment, body, call, drop, label, release }) {
    const chat = body as UpstreamChatBody;
    if (chat.stream === true) {
      const opened = await wire.openStream(client, deployment, chat, call, drop);
      const chunks = relay(opened, label, release, (e) => toUpstreamError(e, deployment, call.signal));
      return { stream: true, chunks, tokens: estimateTokens(chat).total };
    }
    const response = await wire.chat(client, deployment, chat, call, drop);
    await release();
    response.model = label;
    return { stream: false, response, tokens: response.usage?.total_tokens ?? estimateTokens(chat).total };
  },
  usage: (answer) => openaiUsage(answer.usage),
  chunkUsage: (chunk) => openaiUsage(chunk.usage),
  answerText: (answer) => answer.choices[0]?.message.content ?? undefined,
  chunkText: (chunk) => chunk.choices[0]?.delta?.content ?? undefined,
};
