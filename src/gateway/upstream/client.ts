/**
 * Where and how to reach one deployment's OpenAI-compatible HTTP API, built once per deployment:
 * origin, path prefix, query and headers. Every deployment shares one undici keep-alive pool.
 */
import { Agent, type Dispatcher } from 'undici';
import type { Target } from '../../config/targets.js';

/** Where and how to reach one deployment; built once. */
export interface UpstreamClient {
  dispatcher: Dispatcher;
  origin: string;
  /** Path prefix, e.g. `/v1` or `/openai/deployments/<name>` (Azure). */
  basePath: string;
  /** `?api-version=…` for Azure, else empty. */
  query: string;
  headers: Record<string, string>;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Headers for this call only, over the client's (a request's extra_headers). */
  headers?: Record<string, string> | undefined;
  timeoutMs: number;
  /** Largest answer read, bytes (router_settings.max_response_bytes). Default 32 MiB. */
  maxResponseBytes?: number | undefined;
}

let shared: Dispatcher | undefined;
/** One pool for all deployments: keep-alive per origin. */
export function sharedDispatcher(): Dispatcher {
  shared ??= new Agent({ keepAliveTimeout: 30_000, connections: 128 });
  return shared;
}

/** The Anthropic API version semroute speaks upstream: the one that takes temperature and top_p. */
export const ANTHROPIC_VERSION = '2023-06-01';

/** A base URL's path without trailing slashes. */
const pathOf = (url: URL) => url.pathname.replace(/\/+$/, '');

/**
 * The client of a target. OpenAI-compatible hosts: `{api_base}/chat/completions` with a bearer
 * key. Azure: `{api_base}/openai/deployments/{model}` with `api-key` and `api-version`.
 * Anthropic: `{base}/v1/messages` with `x-api-key` and `anthropic-version` (a base given with or
 * without `/v1`, or as the full `/v1/messages` URL LiteLLM also takes).
 */
export function createClient(target: Target, dispatcher: Dispatcher = sharedDispatcher()): UpstreamClient {
  const key = target.apiKey;
  const wire = target.provider.wire;
  const base = new URL(
    wire === 'azure'
      ? `${target.baseUrl.replace(/\/+$/, '')}/openai/deployments/${target.model}`
      : target.baseUrl,
  );
  let basePath = pathOf(base);
  let auth: Record<string, string>;
  if (wire === 'anthropic') {
    basePath = basePath.replace(/\/messages$/, '');
    if (!/\/v1$/.test(basePath)) basePath += '/v1';
    auth = { ...(key === undefined ? {} : { 'x-api-key': key }), 'anthropic-version': ANTHROPIC_VERSION };
  } else if (wire === 'azure') {
    auth = { 'api-key': key ?? '' };
  } else {
    // LiteLLM's OLLAMA_API_BASE names the server (http://localhost:11434); its OpenAI API is under /v1.
    if (target.provider.name.startsWith('ollama') && !/\/v1$/.test(basePath)) basePath += '/v1';
    // Local servers (vLLM, Ollama, LM Studio) take any key; send one anyway, as the SDK does.
    auth = { authorization: `Bearer ${key ?? 'sk-no-key'}` };
  }
  return {
    dispatcher,
    origin: base.origin,
    basePath,
    query: wire === 'azure' ? `?api-version=${encodeURIComponent(target.apiVersion ?? '2024-06-01')}` : '',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      ...target.headers,
      ...auth,
      ...(target.organization && wire === 'openai' ? { 'openai-organization': target.organization } : {}),
    },
  };
}
