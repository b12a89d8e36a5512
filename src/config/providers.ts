/**
 * Which provider serves a `litellm_params.model`, and how to reach it: the provider table, and
 * LiteLLM's order for reading a model string (`get_llm_provider`): `custom_llm_provider` first,
 * then the prefix before the first `/`, then an `api_base` on a known host, then the bare names
 * everyone knows (`gpt-*`, `claude-*`, `gemini-*`…). A prefix semroute cannot serve is an error
 * naming the entry, never a call to the wrong URL.
 */
import { ErrorCode, SemrouteError } from '../errors.js';

/** How a provider is spoken to. */
export type WireFormat = 'openai' | 'azure' | 'anthropic' | 'bedrock' | 'cohere' | 'vertex';

export interface Provider {
  readonly name: string;
  readonly wire: WireFormat;
  /** Default base URL; undefined = `api_base` (or `baseEnv`) is required. */
  readonly baseUrl: string | undefined;
  /** Variables that override the base URL, first set wins. */
  readonly baseEnv: readonly string[];
  /** Variables holding the API key, first set wins. */
  readonly keyEnv: readonly string[];
  /** Whether calls without a key are expected to fail (hosted APIs) or not (local servers). */
  readonly keyRequired: boolean;
  /** Serves /embeddings. */
  readonly embeddings: boolean;
  /** Serves /rerank (Cohere's shape: query, documents, top_n → results with relevance_score). */
  readonly rerank?: boolean;
  /** Hosts whose api_base says the provider without a prefix (LiteLLM's openai_compatible_endpoints). */
  readonly hosts?: readonly string[];
  /** Headers every call carries, from the environment (OpenRouter's attribution). */
  readonly headers?: (env: NodeJS.ProcessEnv) => Record<string, string>;
  /** How it is reached, for the README table and `semroute check`. */
  readonly note?: string;
  /**
   * The path its API lives under when the conventional base names only the server (Ollama's
   * `http://localhost:11434` serves OpenAI's API under `/v1`): added when the base lacks it.
   */
  readonly apiPath?: string;
  /** The variable holding the API version when `api_version` is not given (Azure's). */
  readonly apiVersionEnv?: string;
  /**
   * Whose cloud's credentials it takes (config/aws-credentials.ts, config/gcp-credentials.ts);
   * `{region}` / `{location}` in baseUrl is theirs.
   */
  readonly cloud?: 'aws' | 'gcp';
  /** The model name its API takes, from the one after the prefix (and whether api_base was given). */
  readonly upstreamModel?: (model: string, apiBase: boolean) => string;
}

/** Hugging Face's inference providers, as LiteLLM's `huggingface/<provider>/<org>/<model>` names them. */
const HF_PROVIDERS = new Set([
  'hf-inference',
  'together',
  'sambanova',
  'fireworks-ai',
  'nebius',
  'novita',
  'cerebras',
  'groq',
  'hyperbolic',
  'nscale',
  'featherless-ai',
  'cohere',
  'replicate',
  'fal-ai',
]);

const openaiCompatible = (
  name: string,
  baseUrl: string | undefined,
  baseEnv: string[],
  keyEnv: string[],
  extra: Partial<Provider> = {},
): Provider => ({
  name,
  wire: 'openai',
  baseUrl,
  baseEnv,
  keyEnv,
  keyRequired: baseUrl !== undefined,
  embeddings: false,
  ...extra,
});

const cohereProvider = (name: string, note: string): Provider => ({
  name,
  wire: 'cohere',
  baseUrl: 'https://api.cohere.com',
  baseEnv: ['COHERE_API_BASE'],
  keyEnv: ['COHERE_API_KEY', 'CO_API_KEY'],
  keyRequired: true,
  embeddings: true,
  rerank: true,
  note,
});

const vertexProvider = (name: string): Provider => ({
  name,
  wire: 'vertex',
  baseUrl: 'https://{location}-aiplatform.googleapis.com',
  baseEnv: [],
  keyEnv: [],
  keyRequired: true,
  embeddings: false,
  cloud: 'gcp',
  note: 'Gemini through its OpenAI-compatible endpoint, Anthropic models through rawPredict; OAuth from a service account or user key',
});

/** Every provider semroute serves, by prefix. */
export const PROVIDERS: Readonly<Record<string, Provider>> = Object.freeze({
  openai: openaiCompatible(
    'openai',
    'https://api.openai.com/v1',
    ['OPENAI_BASE_URL', 'OPENAI_API_BASE'],
    ['OPENAI_API_KEY'],
    {
      embeddings: true,
    },
  ),
  custom_openai: openaiCompatible('custom_openai', undefined, [], [], { embeddings: true }),
  openai_like: openaiCompatible('openai_like', undefined, [], [], { embeddings: true }),
  azure: {
    name: 'azure',
    wire: 'azure',
    baseUrl: undefined,
    baseEnv: ['AZURE_API_BASE'],
    keyEnv: ['AZURE_API_KEY', 'AZURE_OPENAI_API_KEY'],
    keyRequired: true,
    embeddings: true,
    apiVersionEnv: 'AZURE_API_VERSION',
    note: '{api_base}/openai/deployments/{model}/…?api-version=',
  },
  azure_ai: openaiCompatible('azure_ai', undefined, ['AZURE_AI_API_BASE'], ['AZURE_AI_API_KEY'], {
    keyRequired: true,
    embeddings: true,
  }),
  anthropic: {
    name: 'anthropic',
    wire: 'anthropic',
    baseUrl: 'https://api.anthropic.com',
    baseEnv: ['ANTHROPIC_API_BASE', 'ANTHROPIC_BASE_URL'],
    keyEnv: ['ANTHROPIC_API_KEY'],
    keyRequired: true,
    embeddings: false,
    note: 'POST {base}/v1/messages, x-api-key, anthropic-version: 2023-06-01',
  },
  cohere: cohereProvider('cohere', 'POST {base}/v2/chat, /v2/embed, /v2/rerank, bearer key'),
  cohere_chat: cohereProvider('cohere_chat', 'the same as cohere/ (LiteLLM’s older prefix for chat)'),
  vertex_ai: vertexProvider('vertex_ai'),
  vertex_ai_beta: vertexProvider('vertex_ai_beta'),
  bedrock: {
    name: 'bedrock',
    wire: 'bedrock',
    baseUrl: 'https://bedrock-runtime.{region}.amazonaws.com',
    baseEnv: ['AWS_BEDROCK_RUNTIME_ENDPOINT'],
    keyEnv: [],
    keyRequired: true,
    embeddings: true,
    rerank: true,
    cloud: 'aws',
    note: 'Converse / ConverseStream, SigV4 (aws_* params, AWS_* variables, shared credentials file) or a Bedrock API key',
  },
  huggingface: openaiCompatible(
    'huggingface',
    'https://router.huggingface.co/v1',
    ['HUGGINGFACE_API_BASE', 'HF_API_BASE'],
    ['HF_TOKEN', 'HUGGINGFACE_API_KEY'],
    {
      note: "Hugging Face's OpenAI-compatible router (a TGI endpoint with api_base)",
      // The router takes `org/model:provider`; a TGI endpoint (api_base) serves one model, named as written.
      upstreamModel: (model, apiBase) => {
        const [first, ...rest] = model.split('/');
        return !apiBase && rest.length >= 2 && HF_PROVIDERS.has(first!)
          ? `${rest.join('/')}:${first}`
          : model;
      },
    },
  ),
  gemini: openaiCompatible(
    'gemini',
    'https://generativelanguage.googleapis.com/v1beta/openai',
    ['GEMINI_API_BASE'],
    ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
    { embeddings: true, note: "Google's OpenAI-compatible endpoint" },
  ),
  groq: openaiCompatible('groq', 'https://api.groq.com/openai/v1', ['GROQ_API_BASE'], ['GROQ_API_KEY'], {
    hosts: ['api.groq.com'],
  }),
  mistral: openaiCompatible(
    'mistral',
    'https://api.mistral.ai/v1',
    ['MISTRAL_API_BASE'],
    ['MISTRAL_API_KEY'],
    {
      embeddings: true,
      hosts: ['api.mistral.ai'],
    },
  ),
  deepseek: openaiCompatible(
    'deepseek',
    'https://api.deepseek.com/v1',
    ['DEEPSEEK_API_BASE'],
    ['DEEPSEEK_API_KEY'],
    {
      hosts: ['api.deepseek.com'],
    },
  ),
  together_ai: openaiCompatible(
    'together_ai',
    'https://api.together.xyz/v1',
    ['TOGETHER_AI_API_BASE'],
    ['TOGETHER_API_KEY', 'TOGETHER_AI_API_KEY', 'TOGETHERAI_API_KEY', 'TOGETHER_AI_TOKEN'],
    { embeddings: true, rerank: true, hosts: ['api.together.xyz'] },
  ),
  fireworks_ai: openaiCompatible(
    'fireworks_ai',
    'https://api.fireworks.ai/inference/v1',
    ['FIREWORKS_AI_API_BASE', 'FIREWORKS_API_BASE'],
    ['FIREWORKS_AI_API_KEY', 'FIREWORKS_API_KEY', 'FIREWORKSAI_API_KEY', 'FIREWORKS_AI_TOKEN'],
    { embeddings: true, hosts: ['api.fireworks.ai'] },
  ),
  openrouter: openaiCompatible(
    'openrouter',
    'https://openrouter.ai/api/v1',
    ['OPENROUTER_API_BASE'],
    ['OPENROUTER_API_KEY', 'OR_API_KEY'],
    {
      hosts: ['openrouter.ai'],
      // OpenRouter's app attribution, with LiteLLM's variable names.
      headers: (env) => ({
        'http-referer': env.OR_SITE_URL ?? 'https://github.com/semroute/semroute',
        'x-title': env.OR_APP_NAME ?? 'semroute',
      }),
    },
  ),
  xai: openaiCompatible('xai', 'https://api.x.ai/v1', ['XAI_API_BASE'], ['XAI_API_KEY'], {
    hosts: ['api.x.ai'],
  }),
  perplexity: openaiCompatible(
    'perplexity',
    'https://api.perplexity.ai',
    ['PERPLEXITY_API_BASE'],
    ['PERPLEXITYAI_API_KEY', 'PERPLEXITY_API_KEY'],
    { hosts: ['api.perplexity.ai'] },
  ),
  deepinfra: openaiCompatible(
    'deepinfra',
    'https://api.deepinfra.com/v1/openai',
    ['DEEPINFRA_API_BASE'],
    ['DEEPINFRA_API_KEY'],
    { embeddings: true, hosts: ['api.deepinfra.com'] },
  ),
  cerebras: openaiCompatible(
    'cerebras',
    'https://api.cerebras.ai/v1',
    ['CEREBRAS_API_BASE'],
    ['CEREBRAS_API_KEY'],
    {
      hosts: ['api.cerebras.ai'],
    },
  ),
  nvidia_nim: openaiCompatible(
    'nvidia_nim',
    'https://integrate.api.nvidia.com/v1',
    ['NVIDIA_NIM_API_BASE'],
    ['NVIDIA_NIM_API_KEY'],
    { embeddings: true, hosts: ['integrate.api.nvidia.com'] },
  ),
  sambanova: openaiCompatible(
    'sambanova',
    'https://api.sambanova.ai/v1',
    ['SAMBANOVA_API_BASE'],
    ['SAMBANOVA_API_KEY'],
    {
      hosts: ['api.sambanova.ai'],
    },
  ),
  // Local servers: their OpenAI-compatible API (Ollama's /v1, not its native /api/chat).
  ollama: openaiCompatible('ollama', 'http://localhost:11434/v1', ['OLLAMA_API_BASE'], ['OLLAMA_API_KEY'], {
    keyRequired: false,
    embeddings: true,
    apiPath: '/v1',
    note: "Ollama's OpenAI-compatible /v1 (LiteLLM uses its native /api/generate)",
  }),
  ollama_chat: openaiCompatible(
    'ollama_chat',
    'http://localhost:11434/v1',
    ['OLLAMA_API_BASE'],
    ['OLLAMA_API_KEY'],
    {
      keyRequired: false,
      embeddings: true,
      apiPath: '/v1',
      note: "Ollama's OpenAI-compatible /v1",
    },
  ),
  hosted_vllm: openaiCompatible('hosted_vllm', undefined, ['HOSTED_VLLM_API_BASE'], ['HOSTED_VLLM_API_KEY'], {
    embeddings: true,
    // vLLM serves /v1/rerank in Cohere's (and Jina's) shape for its cross-encoder models.
    rerank: true,
  }),
  lm_studio: openaiCompatible('lm_studio', undefined, ['LM_STUDIO_API_BASE'], ['LM_STUDIO_API_KEY'], {
    embeddings: true,
  }),
  llamafile: openaiCompatible(
    'llamafile',
    'http://127.0.0.1:8080/v1',
    ['LLAMAFILE_API_BASE'],
    ['LLAMAFILE_API_KEY'],
    {
      keyRequired: false,
    },
  ),
});

/**
 * Prefixes LiteLLM knows and semroute cannot serve (another wire format or signing scheme). A
 * model string with one of them is refused at start.
 */
export const UNSUPPORTED_PROVIDERS: ReadonlySet<string> = new Set([
  'sagemaker',
  'sagemaker_chat',
  'palm',
  'replicate',
  'watsonx',
  'watsonx_text',
  'ai21',
  'ai21_chat',
  'nlp_cloud',
  'aleph_alpha',
  'petals',
  'baseten',
  'predibase',
  'cloudflare',
  'databricks',
  'clarifai',
  'vllm',
  'text-completion-openai',
  'text-completion-codestral',
  'codestral',
  'anthropic_text',
  'oci',
  'snowflake',
  'triton',
  'voyage',
  'jina_ai',
  'assemblyai',
  'elevenlabs',
  'gradient_ai',
  'github',
  'github_copilot',
  'dashscope',
  'moonshot',
  'volcengine',
  'featherless_ai',
  'friendliai',
  'nscale',
  'novita',
  'hyperbolic',
  'lambda_ai',
  'galadriel',
  'infinity',
  'litellm_proxy',
]);

/** Bare names LiteLLM knows the provider of (from its price map), as name patterns. */
const BARE_NAMES: ReadonlyArray<[RegExp, string]> = [
  [
    /^(gpt-|chatgpt-|o[1-9](-|$)|text-embedding-|ft:gpt-|davinci-|babbage-|dall-e-|tts-|whisper-|omni-moderation|codex-|computer-use-)/,
    'openai',
  ],
  [/^claude-/, 'anthropic'],
  [/^gemini-/, 'gemini'],
  [/^grok-/, 'xai'],
  [/^deepseek-(chat|reasoner|coder)/, 'deepseek'],
];

/** The provider a bare name implies (`gpt-4o` → openai), from the known names alone. */
export function impliedProvider(model: string): string | undefined {
  return BARE_NAMES.find(([pattern]) => pattern.test(model))?.[1];
}

export interface ProviderChoice {
  readonly provider: Provider;
  /** The model name the provider is sent (the prefix removed). */
  readonly model: string;
  /** How the provider was told: `prefix`, `custom_llm_provider`, `api_base`, `name` or `api_base (any)`. */
  readonly how: string;
  /** A provider LiteLLM has and semroute cannot call: the deployment starts, unavailable. */
  readonly unsupported?: string | undefined;
}

export function supportedProviders(): string {
  return Object.keys(PROVIDERS).join(', ');
}

/** Where a model string was written: a label for messages, a JSON path for tools. */
export interface Place {
  readonly label: string;
  readonly path: string;
}

/**
 * A provider LiteLLM has and semroute cannot call, as a choice: the deployment starts marked
 * unavailable (LiteLLM starts such configs too), and a request only it could serve is a 400.
 */
function unsupported(prefix: string, model: string): ProviderChoice {
  return {
    provider: {
      name: prefix,
      wire: 'openai',
      baseUrl: undefined,
      baseEnv: [],
      keyEnv: [],
      keyRequired: false,
      embeddings: false,
    },
    model: model.startsWith(`${prefix}/`) ? model.slice(prefix.length + 1) : model,
    how: 'prefix',
    unsupported: `semroute cannot call ${prefix} (it speaks another protocol); supported providers: ${supportedProviders()}`,
  };
}

/**
 * The provider of a model string. A model no rule places is an error unless an `api_base` is
 * given: then it is an OpenAI-compatible server's model, sent as written.
 */
export function chooseProvider(
  model: string,
  options: { apiBase?: string | undefined; customProvider?: string | undefined; at: Place },
): ProviderChoice {
  const { apiBase, customProvider, at } = options;
  if (customProvider !== undefined) {
    const provider = PROVIDERS[customProvider];
    if (provider === undefined) {
      if (UNSUPPORTED_PROVIDERS.has(customProvider)) return unsupported(customProvider, model);
      throw new SemrouteError(
        ErrorCode.CONFIG_INVALID,
        `${at.label}: custom_llm_provider "${customProvider}" is not a provider semroute knows; supported: ${supportedProviders()}`,
        { path: at.path, expected: supportedProviders() },
      );
    }
    const prefix = `${customProvider}/`;
    return {
      provider,
      model: model.startsWith(prefix) ? model.slice(prefix.length) : model,
      how: 'custom_llm_provider',
    };
  }
  const slash = model.indexOf('/');
  if (slash > 0) {
    const prefix = model.slice(0, slash);
    const provider = PROVIDERS[prefix];
    if (provider !== undefined) return { provider, model: model.slice(slash + 1), how: 'prefix' };
    if (UNSUPPORTED_PROVIDERS.has(prefix)) return unsupported(prefix, model);
  }
  if (apiBase !== undefined) {
    let host = '';
    try {
      host = new URL(apiBase).host;
    } catch {
      // An api_base that is not a URL is reported where the client is built.
    }
    const byHost = Object.values(PROVIDERS).find((p) => p.hosts?.includes(host));
    if (byHost !== undefined) return { provider: byHost, model, how: 'api_base' };
  }
  for (const [pattern, name] of BARE_NAMES) {
    if (pattern.test(model)) return { provider: PROVIDERS[name]!, model, how: 'name' };
  }
  // Any OpenAI-compatible server (vLLM, a LiteLLM proxy, …): its model names are its own.
  if (apiBase !== undefined) return { provider: PROVIDERS.openai!, model, how: 'api_base (any)' };
  throw new SemrouteError(
    ErrorCode.CONFIG_INVALID,
    `${at.label}: cannot tell which provider serves "${model}": write it as provider/model (e.g. openai/${model}), or give api_base for an OpenAI-compatible server; providers: ${supportedProviders()}`,
    { path: at.path, expected: 'provider/model, or an api_base' },
  );
}

/** The first of `names` that is set, with its name. */
export function fromEnv(
  names: readonly string[],
  env: NodeJS.ProcessEnv,
): { value: string; name: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return { value, name };
  }
  return undefined;
}
