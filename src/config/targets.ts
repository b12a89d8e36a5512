/**
 * Where a model_list entry's calls go, resolved once when the config is parsed: the provider (by
 * LiteLLM's rules, `providers.ts`), the base URL (`api_base`, else the provider's variable, else
 * its default), the key (`api_key`, else the provider's variable) and the headers. A wildcard
 * entry whose provider depends on the name asked for (`model: "*"`) is resolved per request
 * from the same inputs, kept here: the provider variables read at parse time.
 */
import { ErrorCode, SemrouteError } from '../errors.js';
import { chooseProvider, fromEnv, PROVIDERS, type Place, type Provider } from './providers.js';

export interface Target {
  readonly provider: Provider;
  /** Model name sent upstream; a wildcard entry's holds `*`, substituted per request. */
  readonly model: string;
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  /** Where the key came from: `litellm_params.api_key` or a variable's name. */
  readonly keySource: string | undefined;
  readonly apiVersion: string | undefined;
  readonly organization: string | undefined;
  /** Headers every call carries: the provider's and litellm_params.extra_headers. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The litellm_params a target is built from. */
export interface TargetParams {
  readonly model: string;
  readonly api_base?: string | undefined;
  readonly base_url?: string | undefined;
  readonly api_key?: string | undefined;
  readonly api_version?: string | undefined;
  readonly organization?: string | undefined;
  readonly custom_llm_provider?: string | undefined;
  readonly extra_headers?: Readonly<Record<string, string>> | undefined;
}

/** The variables providers read (keys, base URLs, attribution), copied once from the environment. */
export function providerEnv(env: NodeJS.ProcessEnv): Readonly<Record<string, string>> {
  const names = new Set(['OR_SITE_URL', 'OR_APP_NAME', 'AZURE_API_VERSION']);
  for (const p of Object.values(PROVIDERS)) for (const n of [...p.baseEnv, ...p.keyEnv]) names.add(n);
  const out: Record<string, string> = {};
  for (const n of names) if (env[n] !== undefined && env[n] !== '') out[n] = env[n];
  return Object.freeze(out);
}

/** A model string whose provider is known only once a request names the model (`*`, `*-mini`). */
export function isDynamicWildcard(params: TargetParams): boolean {
  if (!params.model.includes('*') || params.custom_llm_provider !== undefined) return false;
  const slash = params.model.indexOf('/');
  return slash <= 0 || PROVIDERS[params.model.slice(0, slash)] === undefined;
}

/**
 * Builds a target. Problems that stop the start (a provider semroute cannot call, a base URL
 * nobody gave) are thrown; ones the first call would meet (no key for a hosted API) are warned.
 */
export function resolveTarget(
  params: TargetParams,
  env: Readonly<Record<string, string | undefined>>,
  /** The entry: label `model_list[2] (coding)`, path `model_list[2]`. */
  entry: Place,
  warn: (message: string) => void,
): Target {
  const where = entry.label;
  const apiBase = params.api_base ?? params.base_url;
  const choice = chooseProvider(params.model, {
    apiBase,
    customProvider: params.custom_llm_provider,
    at: { label: `${where}: litellm_params.model`, path: `${entry.path}.litellm_params.model` },
  });
  const { provider } = choice;
  const baseFromEnv = fromEnv(provider.baseEnv, env);
  const baseUrl = apiBase ?? baseFromEnv?.value ?? provider.baseUrl;
  if (baseUrl === undefined) {
    const variables = provider.baseEnv.length > 0 ? ` (or ${provider.baseEnv.join(' / ')})` : '';
    throw new SemrouteError(
      ErrorCode.CONFIG_INVALID,
      `${where}: ${provider.name} has no default address: set litellm_params.api_base${variables}`,
      { path: `${entry.path}.litellm_params.api_base`, expected: 'the URL of the server' },
    );
  }
  try {
    new URL(baseUrl);
  } catch {
    throw new SemrouteError(ErrorCode.CONFIG_INVALID, `${where}: api_base "${baseUrl}" is not a URL`, {
      path: `${entry.path}.litellm_params.api_base`,
      expected: 'a URL such as http://127.0.0.1:8000/v1',
    });
  }
  const keyFromEnv = params.api_key === undefined ? fromEnv(provider.keyEnv, env) : undefined;
  const apiKey = params.api_key ?? keyFromEnv?.value;
  if (apiKey === undefined && provider.keyRequired && apiBase === undefined && baseFromEnv === undefined) {
    const variables = provider.keyEnv.length > 0 ? `${provider.keyEnv.join(' / ')} or ` : '';
    warn(
      `${where}: no API key for ${provider.name}: set ${variables}litellm_params.api_key; until then its calls are refused`,
    );
  }
  return Object.freeze({
    provider,
    model: choice.model,
    baseUrl,
    apiKey,
    keySource: params.api_key !== undefined ? 'litellm_params.api_key' : keyFromEnv?.name,
    apiVersion: params.api_version ?? (provider.apiVersionEnv ? env[provider.apiVersionEnv] : undefined),
    organization: params.organization,
    headers: Object.freeze({
      ...(provider.headers?.(env as NodeJS.ProcessEnv) ?? {}),
      ...(params.extra_headers ?? {}),
    }),
  });
}
