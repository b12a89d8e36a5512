/**
 * Where and how to reach one deployment's OpenAI-compatible HTTP API, built once per deployment:
 * origin, path prefix, query and headers. Every deployment shares one undici keep-alive pool.
 */
import { Agent, type Dispatcher } from 'undici';
import type { ModelEntry } from '../../config/gateway-schema.js';

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

export function createClient(entry: ModelEntry, dispatcher: Dispatcher = sharedDispatcher()): UpstreamClient {
  const p = entry.litellm_params;
  const azure = p.model.startsWith('azure/') && p.api_base !== undefined;
  const base = new URL(
    azure
      ? `${p.api_base!.replace(/\/+$/, '')}/openai/deployments/${p.model.slice('azure/'.length)}`
      : (p.api_base ?? 'https://api.openai.com/v1'),
  );
  // Local servers (vLLM, Ollama, LM Studio) take any key; send one anyway, as the SDK does.
  const key = p.api_key ?? 'sk-no-key';
  return {
    dispatcher,
    origin: base.origin,
    basePath: base.pathname.replace(/\/+$/, ''),
    query: azure ? `?api-version=${encodeURIComponent(p.api_version ?? '2024-06-01')}` : '',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(azure ? { 'api-key': key } : { authorization: `Bearer ${key}` }),
      ...(p.organization ? { 'openai-organization': p.organization } : {}),
    },
  };
}
