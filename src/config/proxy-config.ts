/**
 * config.yaml in LiteLLM's proxy shape: `model_list`, `router_settings`, `litellm_settings`
 * (fallbacks, retries, timeouts, cache), `general_settings` (master_key, and semroute's
 * virtual `keys`). Keys semroute does not support are collected for one startup warning.
 */
import path from 'node:path';
import { z } from 'zod';
import { ErrorCode, SemrouteError } from '../errors.js';
import { resolveEnvRefs } from './env-refs.js';
import { deepFreeze } from './freeze.js';
import { type GatewayConfig, parseGatewayConfig, RouterSettingsSchema } from './gateway-schema.js';
import { readTextFile } from './json-source.js';
import { type SemanticModel, semanticModels } from './semantic-models.js';
import { parseYaml } from './yaml.js';

export const VirtualKeySchema = z.object({
  key: z.string().min(8, 'a virtual key needs at least 8 characters'),
  /** Model names (groups, aliases, auto entries, `auto`) this key may call; absent = all. */
  models: z.array(z.string()).optional(),
  alias: z.string().optional(),
});

export const GeneralSettingsSchema = z.looseObject({
  master_key: z.string().min(1).optional(),
  keys: z.array(VirtualKeySchema).default([]),
  /** Serve /metrics without a key. Default false. */
  metrics_open: z.boolean().default(false),
  /** Serve the route page without a key. Default false. */
  ui_open: z.boolean().default(false),
  /** Largest request body in bytes. Default 10 MiB. */
  max_request_size_bytes: z
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  /** Keep prompt text in the recent-decisions panel. Default false. */
  log_prompts: z.boolean().default(false),
});

export type GeneralSettings = z.infer<typeof GeneralSettingsSchema>;
export type VirtualKey = z.infer<typeof VirtualKeySchema>;

export interface ProxyConfig {
  readonly file: string | undefined;
  /** Parsed once, here, and frozen: the gateway takes it as it is. */
  readonly gateway: GatewayConfig;
  readonly general: Readonly<GeneralSettings>;
  /** Folder that relative paths in the config resolve against. */
  readonly baseDir: string;
  /** The semantic routers the config names, with their router.json files resolved. */
  readonly semantic: readonly SemanticModel[];
  /** router.json files the gateway reads (watched for hot reload). */
  readonly routerFiles: readonly string[];
  /** Keys present in the file that semroute ignores. */
  readonly unsupported: readonly string[];
  /** `litellm_settings.set_verbose`: per-request debug lines. */
  readonly verbose: boolean;
}

/** litellm_settings keys that map onto router settings. */
const LITELLM_TO_ROUTER: Record<string, string> = {
  fallbacks: 'fallbacks',
  context_window_fallbacks: 'context_window_fallbacks',
  content_policy_fallbacks: 'content_policy_fallbacks',
  default_fallbacks: 'default_fallbacks',
  num_retries: 'num_retries',
  request_timeout: 'timeout',
  retry_policy: 'retry_policy',
  allowed_fails: 'allowed_fails',
  cooldown_time: 'cooldown_time',
  cache: 'cache_responses',
};
/** Keys accepted without effect because they only tune LiteLLM's own logging or drop behaviour. */
const HARMLESS = new Set(['set_verbose', 'drop_params', 'json_logs']);
const ROUTER_KEYS = new Set(Object.keys(RouterSettingsSchema.shape));
const GENERAL_KEYS = new Set(Object.keys(GeneralSettingsSchema.shape));

function asObject(value: unknown, where: string, file: string | undefined): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new SemrouteError(ErrorCode.CONFIG_INVALID, `${file ?? 'config'}: ${where} must be a mapping`, {
      file,
      path: where,
      expected: 'a mapping (key: value)',
    });
  }
  return value as Record<string, unknown>;
}

/** Validates a parsed config document. */
export function parseProxyConfig(
  raw: unknown,
  options: { file?: string; env?: NodeJS.ProcessEnv } = {},
): ProxyConfig {
  const file = options.file;
  const root = asObject(raw, '(root)', file);
  const unsupported: string[] = [];
  const router = { ...asObject(root.router_settings, 'router_settings', file) };
  for (const key of Object.keys(router))
    if (!ROUTER_KEYS.has(key)) unsupported.push(`router_settings.${key}`);
  const litellm = asObject(root.litellm_settings, 'litellm_settings', file);
  for (const [key, value] of Object.entries(litellm)) {
    const target = LITELLM_TO_ROUTER[key];
    if (target !== undefined) {
      if (!(target in router)) router[target] = value;
    } else if (!HARMLESS.has(key)) unsupported.push(`litellm_settings.${key}`);
  }
  if (litellm.cache_params && typeof litellm.cache_params === 'object') {
    const params = litellm.cache_params as Record<string, unknown>;
    if (typeof params.ttl === 'number' && !('default_cache_time_seconds' in router))
      router.default_cache_time_seconds = params.ttl;
    // LiteLLM's Redis cache settings name the same server the router shares state in.
    const hasRedis = ['redis_url', 'redis_host'].some((k) => k in router);
    if (params.type === 'redis' && !hasRedis) {
      for (const [from, to] of [
        ['url', 'redis_url'],
        ['host', 'redis_host'],
        ['port', 'redis_port'],
        ['password', 'redis_password'],
      ] as const) {
        if (params[from] !== undefined) router[to] = params[from];
      }
    }
  }
  for (const key of Object.keys(root)) {
    if (
      ![
        'model_list',
        'router_settings',
        'litellm_settings',
        'general_settings',
        'environment_variables',
      ].includes(key)
    )
      unsupported.push(key);
  }
  const generalRaw = asObject(root.general_settings, 'general_settings', file);
  for (const key of Object.keys(generalRaw))
    if (!GENERAL_KEYS.has(key)) unsupported.push(`general_settings.${key}`);

  const env = {
    ...(options.env ?? process.env),
    ...(asObject(root.environment_variables, 'environment_variables', file) as Record<string, string>),
  };
  const gateway = parseGatewayConfig(
    { ...router, model_list: root.model_list },
    { ...(file ? { file } : {}), env },
  );
  const general = GeneralSettingsSchema.safeParse(
    resolveEnvRefs(generalRaw, env, file, ['general_settings']),
  );
  if (!general.success) {
    const issue = general.error.issues[0]!;
    const at = `general_settings.${issue.path.join('.')}`;
    throw new SemrouteError(ErrorCode.CONFIG_INVALID, `${file ?? 'config'}: ${at}: ${issue.message}`, {
      file,
      path: at,
      expected: issue.message,
    });
  }
  const baseDir = file === undefined ? process.cwd() : path.dirname(file);
  const semantic = semanticModels(gateway, baseDir);
  const routerFiles = semantic.map((m) => m.file).filter((f): f is string => f !== undefined);
  const verbose = litellm.set_verbose === true;
  return deepFreeze({
    file,
    gateway,
    general: general.data,
    baseDir,
    semantic,
    routerFiles,
    unsupported,
    verbose,
  });
}

export async function loadProxyConfig(file: string, env?: NodeJS.ProcessEnv): Promise<ProxyConfig> {
  const text = await readTextFile(file, 16 * 1024 * 1024);
  return parseProxyConfig(parseYaml(text, file), { file, ...(env ? { env } : {}) });
}
