/**
 * Prices of well-known models, used when a deployment's model_info gives none (a user's
 * model_info always wins), so that spend and budgets work for configs that name only a model.
 *
 * Data, not code: USD per input token, USD per output token, max input tokens, max output tokens,
 * for 34 models, read on 2026-12-03 from LiteLLM's public price file (MIT licence,
 * https://github.com/BerriAI/litellm/blob/main/LICENSE) at
 * https://github.com/BerriAI/litellm/blob/00035b69f416be24e2e323c13198d9b7d2d1bdf9/model_prices_and_context_window.json
 * Prices change: a deployment with prices of its own in model_info is never priced from here.
 * Keys are `<provider>/<model>` in semroute's provider names (Cohere's `cohere_chat` is `cohere`).
 */

/** [input USD/token, output USD/token, max input tokens, max output tokens]. */
type Row = readonly [number, number, number, number | undefined];

export const PRICE_SOURCE = Object.freeze({
  url: 'https://github.com/BerriAI/litellm/blob/00035b69f416be24e2e323c13198d9b7d2d1bdf9/model_prices_and_context_window.json',
  read: '2026-12-03',
  licence: 'MIT (LiteLLM)',
});

const TABLE: Readonly<Record<string, Row>> = Object.freeze({
  'anthropic/claude-3-7-sonnet-20250219': [3e-6, 1.5e-5, 200000, 64000],
  'anthropic/claude-3-haiku-20240307': [2.5e-7, 1.25e-6, 200000, 4096],
  'anthropic/claude-3-opus-20240229': [1.5e-5, 7.5e-5, 200000, 4096],
  'anthropic/claude-opus-4-20250514': [1.5e-5, 7.5e-5, 200000, 32000],
  'anthropic/claude-sonnet-4-20250514': [3e-6, 1.5e-5, 1000000, 64000],
  'cohere/command-r': [1.5e-7, 6e-7, 128000, 4096],
  'cohere/command-r-plus': [2.5e-6, 1e-5, 128000, 4096],
  'deepseek/deepseek-chat': [2.8e-7, 4.2e-7, 131072, 8192],
  'deepseek/deepseek-reasoner': [2.8e-7, 4.2e-7, 131072, 65536],
  'gemini/gemini-2.0-flash': [1e-7, 4e-7, 1048576, 8192],
  'gemini/gemini-2.5-flash': [3e-7, 2.5e-6, 1048576, 65535],
  'gemini/gemini-2.5-pro': [1.25e-6, 1e-5, 1048576, 65535],
  'groq/llama-3.1-8b-instant': [5e-8, 8e-8, 128000, 8192],
  'groq/llama-3.3-70b-versatile': [5.9e-7, 7.9e-7, 128000, 32768],
  'mistral/mistral-large-latest': [5e-7, 1.5e-6, 262144, 262144],
  'mistral/mistral-small-latest': [6e-8, 1.8e-7, 131072, 131072],
  'openai/gpt-3.5-turbo': [5e-7, 1.5e-6, 16385, 4096],
  'openai/gpt-4': [3e-5, 6e-5, 8192, 4096],
  'openai/gpt-4-turbo': [1e-5, 3e-5, 128000, 4096],
  'openai/gpt-4.1': [2e-6, 8e-6, 1047576, 32768],
  'openai/gpt-4.1-mini': [4e-7, 1.6e-6, 1047576, 32768],
  'openai/gpt-4.1-nano': [1e-7, 4e-7, 1047576, 32768],
  'openai/gpt-4o': [2.5e-6, 1e-5, 128000, 16384],
  'openai/gpt-4o-mini': [1.5e-7, 6e-7, 128000, 16384],
  'openai/gpt-5': [1.25e-6, 1e-5, 272000, 128000],
  'openai/gpt-5-mini': [2.5e-7, 2e-6, 272000, 128000],
  'openai/gpt-5-nano': [5e-8, 4e-7, 272000, 128000],
  'openai/o1': [1.5e-5, 6e-5, 200000, 100000],
  'openai/o3': [2e-6, 8e-6, 200000, 100000],
  'openai/o3-mini': [1.1e-6, 4.4e-6, 200000, 100000],
  'openai/o4-mini': [1.1e-6, 4.4e-6, 200000, 100000],
  'openai/text-embedding-3-large': [1.3e-7, 0.0, 8191, undefined],
  'openai/text-embedding-3-small': [2e-8, 0.0, 8191, undefined],
  'openai/text-embedding-ada-002': [1e-7, 0.0, 8191, undefined],
});

export interface ListedPrice {
  readonly inputCostPerToken: number;
  readonly outputCostPerToken: number;
  readonly maxInputTokens: number;
  readonly maxOutputTokens: number | undefined;
}

/** The shipped price of `model` at `provider`, if the table has it. */
export function listedPrice(provider: string, model: string): ListedPrice | undefined {
  const name = `${provider === 'cohere_chat' ? 'cohere' : provider}/${model}`;
  if (!Object.hasOwn(TABLE, name)) return undefined;
  const [inputCostPerToken, outputCostPerToken, maxInputTokens, maxOutputTokens] = TABLE[name]!;
  return { inputCostPerToken, outputCostPerToken, maxInputTokens, maxOutputTokens };
}
