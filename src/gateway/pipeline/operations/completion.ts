/**
 * Legacy `completions`: routed like chat (a semantic router reads the prompt as a user message),
 * passed through to wires that have the endpoint; one that has not (Anthropic) is the request's
 * 400, never a fallback's turn.
 */
import { ErrorCode, SemrouteError } from '../../../errors.js';
import type { Completion } from '../../types.js';
import { relay } from '../../upstream/stream.js';
import { toUpstreamError } from '../../upstream/errors.js';
import { type Operation, openaiUsage } from '../operation.js';

export type CompletionBody = Record<string, unknown> & { prompt: string };

const estimate = (body: CompletionBody) => {
  const input = Math.ceil(String(body.prompt ?? '').length / 4);
  return { input, total: input + (typeof body.max_tokens === 'number' ? body.max_tokens : 16) };
};

export const completionOperation: Operation<CompletionBody, Completion, Completion> = {
  endpoint: 'completion',
  capability: 'completion',
  cacheable: false,
  routingMessages: (body) => [{ role: 'user', content: body.prompt }],
  estimate,
  async call({ wire, client, deployment, body, call, label, release }) {
    if (wire.completion === undefined || wire.openCompletionStream === undefined) {
      // Unreachable through the pipeline (it checks the capability first); a wire without the
      // methods must not claim the capability.
      throw new SemrouteError(ErrorCode.INPUT_INVALID, `${deployment.group}: no legacy completions endpoint`);
    }
    if (body.stream === true) {
      const opened = await wire.openCompletionStream(client, deployment, body, call);
      const chunks = relay(opened, label, release, (e) => toUpstreamError(e, deployment, call.signal));
      return { stream: true, chunks, tokens: 0 };
    }
    const response = await wire.completion(client, deployment, body, call);
    await release();
    response.model = label;
    return { stream: false, response, tokens: response.usage?.total_tokens ?? 0 };
  },
  usage: (answer) => openaiUsage(answer.usage),
  chunkUsage: (chunk) => openaiUsage(chunk.usage),
  answerText: (answer) => answer.choices[0]?.text,
  chunkText: (chunk) => chunk.choices[0]?.text,
};
