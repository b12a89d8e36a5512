/**
 * Where a model_list entry's calls go, resolved once when the config is parsed: the provider (by
 * LiteLLM's rules, `providers.ts`), the base URL (`api_base`, else the provider's variable, else
 * its default), the key (`api_key`, else the provider's variable) and the headers. A wildcard
 * entry whose provider depends on the name asked for (`model: "*"`) is resolved per request
 * from the same inputs, kept here: the provider variables read at parse time.
 */
import { ErrorCode, SemrouteError } from '../errors.js';
import { type AwsParams, type AwsSettings, awsSettings, AWS_ENV } from './aws-credentials.js';
import {
  GCP_ENV,
  type VertexParams,
  type VertexSettings,
  vertexHost,
  vertexSettings,
} from './gcp-credentials.js';
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
  /** Why no call can be made (a provider semroute cannot call): the deployment is never picked. */
  readonly unavailable?: string | undefined;
  /** Region and credentials, for providers on AWS (Bedrock). */
  readonly aws?: AwsSettings | undefined;
  /** Project, location and credentials, for Vertex AI. */
  readonly vertex?: VertexSettings | undefined;
}

/** The litellm_params a target is built from. */
export interface TargetParams extends AwsParams, VertexParams {
  readonly aws_bedrock_runtime_endpoint?: string | undefined;
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
  const names = new Set<string>(['OR_SITE_URL', 'OR_APP_NAME', 'AZURE_API_VERSION', ...AWS_ENV, ...GCP_ENV]);
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
 * Builds a target. Problems that stop the start (a base URL nobody gave) are thrown; ones the
 * first call would meet (no key for a hosted API) are warned; a provider semroute cannot call
 * gives a target marked `unavailable` (the start goes on, as LiteLLM's does).
 */
export function resolveTarget(
  params: TargetParams,
  env: Readonly<Record<string, string | undefined>>,
  /** The entry: label `model_list[2] (coding)`, path `model_list[2]`. */
  entry: Place,
  warn: (message: string) => void,
  /** The variable `api_key: os.environ/NAME` named, when it is unset. */
  unsetKey?: string,
): Target {
  const where = entry.label;
  const apiBase = params.api_base ?? params.base_url;
  const choice = chooseProvider(params.model, {
    apiBase,
    customProvider: params.custom_llm_provider,
    at: { label: `${where}: litellm_params.model`, path: `${entry.path}.litellm_params.model` },
  });
  const { provider } = choice;
  if (choice.unsupported !== undefined)
    return Object.freeze({
      provider,
      model: choice.model,
      baseUrl: '',
      apiKey: undefined,
      keySource: undefined,
      apiVersion: undefined,
      organization: undefined,
      headers: Object.freeze({}),
      unavailable: choice.unsupported,
    });
  const baseFromEnv = fromEnv(provider.baseEnv, env);
  const aws = provider.cloud === 'aws' ? awsSettings(params, env, entry) : undefined;
  const vertex = provider.cloud === 'gcp' ? vertexSettings(params, env, entry) : undefined;
  const baseUrl =
    apiBase ??
    params.aws_bedrock_runtime_endpoint ??
    baseFromEnv?.value ??
    (aws !== undefined
      ? provider.baseUrl?.replace('{region}', aws.region)
      : vertex !== undefined
        ? vertexHost(vertex.location)
        : provider.baseUrl);
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
  if (aws !== undefined && aws.credentials === undefined && aws.bearerToken === undefined)
    warn(
      `${where}: no AWS credentials for bedrock: set aws_access_key_id / aws_secret_access_key (or aws_profile_name, AWS_ACCESS_KEY_ID, a Bedrock API key); until then its calls are refused`,
    );
  if (vertex !== undefined && vertex.credentials === undefined)
    warn(
      `${where}: no Google credentials for Vertex AI: set vertex_credentials (a key file or its JSON) or GOOGLE_APPLICATION_CREDENTIALS; until then its calls are refused`,
    );
  if (
    aws === undefined &&
    vertex === undefined &&
    apiKey === undefined &&
    provider.keyRequired &&
    apiBase === undefined &&
    baseFromEnv === undefined
  ) {
    const variables = provider.keyEnv.length > 0 ? `${provider.keyEnv.join(' / ')} or ` : '';
    warn(
      `${where}: no API key for ${provider.name}: set ${variables}litellm_params.api_key; until then its calls are refused`,
    );
  }
  return Object.freeze({
    provider,
    model: provider.upstreamModel?.(choice.model, apiBase !== undefined) ?? choice.model,
    baseUrl,
    apiKey,
    keySource: params.api_key !== undefined ? 'litellm_params.api_key' : (unsetKey ?? keyFromEnv?.name),
    apiVersion: params.api_version ?? (provider.apiVersionEnv ? env[provider.apiVersionEnv] : undefined),
    organization: params.organization,
    ...(aws === undefined ? {} : { aws }),
    ...(vertex === undefined ? {} : { vertex }),
    headers: Object.freeze({
      ...(provider.headers?.(env as NodeJS.ProcessEnv) ?? {}),
      ...(params.extra_headers ?? {}),
    }),
  });
}
