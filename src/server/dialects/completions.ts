/**
 * `POST /v1/completions` (OpenAI's legacy completions): passed through to the upstream's own
 * `/completions`, routed like chat (a semantic router reads the prompt). One prompt per request:
 * token arrays and several prompts are refused, naming the field.
 */
import { z } from 'zod';
import type { Completion } from '../../gateway/types.js';
import { validate } from '../validate.js';
import { type Dialect, dataFrame } from './dialect.js';

const CompletionRequestSchema = z.looseObject({
  model: z.string().min(1, 'model is required'),
  prompt: z.union(
    [z.string(), z.array(z.string()).length(1, 'send one prompt per request')],
    'prompt must be a string (token arrays are not routed)',
  ),
  stream: z.boolean().nullish(),
});

type CompletionRequest = z.infer<typeof CompletionRequestSchema> & { prompt: string };

export const completionsDialect: Dialect<CompletionRequest, Completion, Completion> = {
  endpoint: 'completions',
  paths: ['/v1/completions', '/completions'],
  parse(body) {
    const parsed = validate(CompletionRequestSchema, body);
    return { ...parsed, prompt: Array.isArray(parsed.prompt) ? parsed.prompt[0]! : parsed.prompt };
  },
  run: (gateway, request, options) => gateway.completion(request, options),
  answer: (response) => response,
  stream: (chunks) => ({
    frames: (async function* () {
      for await (const chunk of chunks) yield dataFrame(chunk);
      yield 'data: [DONE]\n\n';
    })(),
    error: (_status, error) => dataFrame(error),
  }),
};
