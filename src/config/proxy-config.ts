/**
 * config.yaml in LiteLLM's proxy shape: `model_list`, `router_settings`, `litellm_settings`
 * (fallbacks, retries, timeouts, cache), `general_settings` (master_key, and semroute's
 * virtual `keys`). Keys semroute does not support are collected for one startup warning.
 */
import path from 'node:path';
import { nearestName } from '../internal/nearest.js';
import { z } from 'zod';
import { ErrorCode, SemrouteError } from '../errors.js';
import { BudgetDurationSchema } from './budget-duration.js';
import { flag, num } from './coerce.js';
import { describeUnset, resolveEnvRefs } from './env-refs.js';
import { deepFreeze } from './freeze.js';
import {
  configError,
  type GatewayConfig,
  parseGatewayConfig,
  RouterSettingsSchema,
} from './gateway-schema.js';
import { adaptiveRouters } from './adaptive-routers.js';
import { complexityRouters } from './complexity-routers.js';
import { ignoredParams } from './litellm-params.js';
import { readTextFile } from './json-source.js';
import { type SemanticModel, semanticModels } from './semantic-models.js';
import { parseYaml } from './yaml.js';

export const VirtualKeySchema = z.object({
  key: z.string().min(8, 'a virtual key needs at least 8 characters'),
  /** Model names (groups, aliases, auto entries, `auto`) this key may call; absent = all. */
  models: z.array(z.string()).optional(),
  /** Its name in logs and metrics (LiteLLM's `key_alias`; `alias` is read too). */
  key_alias: z.string().optional(),
  alias: z.string().optional(),
  /** USD this key may spend per `budget_duration` window (none: for as long as the state lives). */
  max_budget: num(z.number().nonnegative()).optional(),
  budget_duration: BudgetDurationSchema.optional(),
  /** Requests and tokens per minute, and requests at once, across every instance. */
  rpm_limit: num(z.number().int().positive()).optional(),
  tpm_limit: num(z.number().int().positive()).optional(),
  max_parallel_requests: num(z.number().int().positive()).optional(),
  /** The operator's own notes (team, owner, …), shown by /key/info. */
  metadata: z.record(z.string(), z.unknown()).optional(),
});

export const GeneralSettingsSchema = z.looseObject({
  master_key: z.string().min(1).optional(),
  keys: z.array(VirtualKeySchema).default([]),
  /** Serve /metrics without a key. Default false. */
  metrics_open: flag().default(false),
  /** Serve the route page without a key. Default false. */
  ui_open: flag().default(false),
  /**
   * Host names an open route page (`ui_open`) answers to besides loopback (`localhost`,
   * `127.0.0.1`, `[::1]`): a page reached by any other name is refused (DNS rebinding).
   */
  ui_allowed_hosts: z.array(z.string().min(1)).default([]),
  /** Largest request body in bytes. Default 10 MiB. */
  max_request_size_bytes: num(z.number().int().positive()).default(10 * 1024 * 1024),
  /** Deepest nesting a request body may have (a deeper one is a 400 naming where). Default 64. */
  max_body_depth: num(z.number().int().min(4)).default(64),
  /** Seconds a client has to send its whole request (slow-body clients are cut off). Default 60. Read at start. */
  request_body_timeout_seconds: num(z.number().positive()).default(60),
  /** Seconds SIGTERM waits for requests in flight before closing what is left. Default 30. */
  graceful_shutdown_seconds: num(z.number().nonnegative()).default(30),
  /** How long /v1/responses keeps stored conversations (previous_response_id, item_reference), seconds. Default 3600. */
  responses_ttl_seconds: num(z.number().positive()).default(3600),
  /** Keep prompt text in the recent-decisions panel. Default false. */
  log_prompts: flag().default(false),
  /**
   * One JSON line per routed request (loop/decision-log.ts): `path` (relative to this file),
   * `max_bytes` (rotation, default 100 MiB), `keep_prompts` (default false: a hash instead).
   * Read at start.
   */
  decision_log: z
    .object({
      path: z.string().min(1),
      max_bytes: num(z.number().int().positive()).optional(),
      keep_prompts: flag().default(false),
    })
    .strict()
    .optional(),
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
  /** Keys present in the file that semroute ignores, as paths. */
  readonly unsupported: readonly string[];
  /** What the operator should read at start, one line each: ignored keys, unset variables, … */
  readonly warnings: readonly string[];
  /** `litellm_settings.set_verbose`: per-request debug lines. */
  readonly verbose: boolean;
  /** LiteLLM's `callbacks: ["otel"]` (or success_callback): export OpenTelemetry traces. */
  readonly otel: boolean;
}

/** litellm_settings keys that map onto router settings. */
const LITELLM_TO_ROUTER: Record<string, string> = {
  fallbacks: 'fallbacks',
  context_window_fallbacks: 'context_window_fallbacks',
  content_policy_fallbacks: 'content_policy_fallbacks',
  default_fallbacks: 'default_fallbacks',
  num_retries: 'num_retries',
  request_timeout: 'request_timeout',
  retry_policy: 'retry_policy',
  allowed_fails: 'allowed_fails',
  cooldown_time: 'cooldown_time',
  disable_cooldowns: 'disable_cooldowns',
  cache: 'cache_responses',
  drop_params: 'drop_params',
  max_budget: 'max_budget',
  budget_duration: 'budget_duration',
};
/**
 * litellm_settings keys that need nothing from semroute: read elsewhere (set_verbose, cache_params)
 * or about things semroute does not have (its logs are always JSON; it sends no telemetry).
 */
const LITELLM_READ = new Set([
  'set_verbose',
  'json_logs',
  'telemetry',
  'cache_params',
  'callbacks',
  'success_callback',
  'failure_callback',
]);
/** The callbacks semroute runs itself (LiteLLM's names); any other is named in a warning. */
const CALLBACKS = new Set(['otel']);
/** router_settings keys LiteLLM has that semroute does anyway. */
const ROUTER_READ = new Set(['enable_pre_call_checks']);
const ROUTER_KEYS = new Set(Object.keys(RouterSettingsSchema.shape));
const GENERAL_KEYS = new Set([...Object.keys(GeneralSettingsSchema.shape), 'max_request_size_mb']);
const TOP_LEVEL = new Set([
  'model_list',
  'router_settings',
  'litellm_settings',
  'general_settings',
  'environment_variables',
  'include',
  'credential_list',
]);
/** cache_params keys semroute reads. */
const CACHE_PARAMS = new Set(['type', 'ttl', 'host', 'port', 'password', 'url', 'namespace']);
/** Values a feature needs to work: unset, they stop the start rather than quietly changing it. */
const REQUIRED_ELSEWHERE = [
  /^general_settings\.master_key$/,
  /^general_settings\.keys\[\d+\]\.key$/,
  /^router_settings\.redis_(url|host|port|password)$/,
  /^litellm_settings\.cache_params\.(host|port|password|url)$/,
];

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

/** "litellm_settings: success_callback, callbacks; guardrails" — one line, grouped by section. */
export function groupKeys(paths: readonly string[]): string {
  const groups = new Map<string, string[]>();
  for (const p of paths) {
    const dot = p.indexOf('.');
    const [section, key] = dot < 0 ? ['', p] : [p.slice(0, dot), p.slice(dot + 1)];
    groups.set(section, [...(groups.get(section) ?? []), key]);
  }
  return [...groups]
    .map(([section, keys]) => (section === '' ? keys.join(', ') : `${section}: ${keys.join(', ')}`))
    .join('; ');
}

/** Router settings from router_settings plus what litellm_settings says about the same things. */
function routerSettings(
  root: Record<string, unknown>,
  file: string | undefined,
  unsupported: string[],
  warnings: string[],
): Record<string, unknown> {
  const router = { ...asObject(root.router_settings, 'router_settings', file) };
  for (const key of Object.keys(router))
    if (!ROUTER_KEYS.has(key) && !ROUTER_READ.has(key)) unsupported.push(`router_settings.${key}`);
  const litellm = asObject(root.litellm_settings, 'litellm_settings', file);
  for (const [key, value] of Object.entries(litellm)) {
    const target = LITELLM_TO_ROUTER[key];
    if (target !== undefined) {
      if (!(target in router)) router[target] = value;
      // LiteLLM's request_timeout is also each call's timeout when the router sets none.
      if (key === 'request_timeout' && !('timeout' in router)) router.timeout = value;
    } else if (!LITELLM_READ.has(key)) unsupported.push(`litellm_settings.${key}`);
  }
  const params = asObject(litellm.cache_params, 'litellm_settings.cache_params', file);
  for (const key of Object.keys(params))
    if (!CACHE_PARAMS.has(key)) unsupported.push(`litellm_settings.cache_params.${key}`);
  if (params.ttl !== undefined && !('default_cache_time_seconds' in router))
    router.default_cache_time_seconds = params.ttl;
  const type = params.type ?? (Object.keys(params).length > 0 ? 'redis' : undefined);
  if (type === 'redis' && !['redis_url', 'redis_host'].some((k) => k in router)) {
    // LiteLLM's Redis cache names the same server the router shares its state in.
    for (const [from, to] of [
      ['url', 'redis_url'],
      ['host', 'redis_host'],
      ['port', 'redis_port'],
      ['password', 'redis_password'],
      ['namespace', 'redis_key_prefix'],
    ] as const) {
      if (params[from] !== undefined) router[to] = params[from];
    }
  } else if (type !== undefined && type !== 'redis' && type !== 'local') {
    warnings.push(
      `litellm_settings.cache_params.type ${String(type)} is not one semroute has: responses are cached in memory (or in Redis with type: redis)`,
    );
  }
  return router;
}

/** Top-level `include:` files (relative to the config), merged as LiteLLM merges them: lists extend, other keys replace. */
async function withIncludes(root: Record<string, unknown>, file: string): Promise<Record<string, unknown>> {
  const include = root.include;
  if (include === undefined) return root;
  if (!Array.isArray(include) || include.some((f) => typeof f !== 'string')) {
    throw new SemrouteError(ErrorCode.CONFIG_INVALID, `${file}: include must be a list of file paths`, {
      file,
      path: 'include',
      expected: 'a list of YAML file paths',
    });
  }
  const merged: Record<string, unknown> = { ...root };
  delete merged.include;
  for (const name of include as string[]) {
    const included = path.resolve(path.dirname(file), name);
    const part = asObject(
      parseYaml(await readTextFile(included, 16 * 1024 * 1024), included),
      '(root)',
      included,
    );
    for (const [key, value] of Object.entries(part)) {
      const existing = merged[key];
      merged[key] = Array.isArray(existing) && Array.isArray(value) ? [...existing, ...value] : value;
    }
  }
  return merged;
}

/** `litellm_credential_name` names a `credential_list` entry whose values fill the deployment's params. */
function withCredentials(root: Record<string, unknown>, file: string | undefined): unknown {
  const list = root.credential_list;
  if (list === undefined || !Array.isArray(root.model_list)) return root.model_list;
  if (!Array.isArray(list)) {
    throw new SemrouteError(ErrorCode.CONFIG_INVALID, `${file ?? 'config'}: credential_list must be a list`, {
      file,
      path: 'credential_list',
      expected: 'a list of { credential_name, credential_values }',
    });
  }
  const byName = new Map<string, Record<string, unknown>>();
  list.forEach((c, i) => {
    const entry = asObject(c, `credential_list[${i}]`, file);
    if (typeof entry.credential_name === 'string')
      byName.set(
        entry.credential_name,
        asObject(entry.credential_values, `credential_list[${i}].credential_values`, file),
      );
  });
  return root.model_list.map((entry: unknown, i: number) => {
    const params = (entry as { litellm_params?: Record<string, unknown> })?.litellm_params;
    const name = params?.litellm_credential_name;
    if (typeof name !== 'string') return entry;
    const values = byName.get(name);
    if (values === undefined) {
      throw new SemrouteError(
        ErrorCode.CONFIG_INVALID,
        `${file ?? 'config'}: model_list[${i}].litellm_params.litellm_credential_name: no credential_list entry is named "${name}"`,
        {
          file,
          path: `model_list[${i}].litellm_params.litellm_credential_name`,
          expected: [...byName.keys()].join(', '),
        },
      );
    }
    const { litellm_credential_name: _, ...rest } = params!;
    return { ...(entry as object), litellm_params: { ...values, ...rest } };
  });
}

/** Validates a parsed config document. Every problem found is reported at once. */
export function parseProxyConfig(
  raw: unknown,
  options: { file?: string; env?: NodeJS.ProcessEnv } = {},
): ProxyConfig {
  const file = options.file;
  const document = asObject(raw, '(root)', file);
  const env = {
    ...(options.env ?? process.env),
    ...(Object.fromEntries(
      Object.entries(asObject(document.environment_variables, 'environment_variables', file)).map(
        ([k, v]) => [k, String(v)],
      ),
    ) as Record<string, string>),
  };
  // LiteLLM resolves os.environ/ over the whole file, every section: so does semroute.
  const resolved = resolveEnvRefs(document, env);
  const root = resolved.value as Record<string, unknown>;
  const unset = resolved.unset;
  const required = unset.filter((u) => REQUIRED_ELSEWHERE.some((r) => r.test(u.path)));
  if (required.length > 0) {
    throw configError(
      file,
      required.map((u) => ({
        path: u.path,
        message: `needs a value, but the environment variable ${u.name} is not set`,
      })),
      unset,
    );
  }
  const unsupported: string[] = [];
  const warnings: string[] = [];
  const router = routerSettings(root, file, unsupported, warnings);
  const unknownTop = Object.keys(root).filter((key) => !TOP_LEVEL.has(key));
  // A mistyped `model_list` would otherwise read as "model_list: missing" beside a warning.
  const meant = unknownTop.find((key) => nearestName(key, ['model_list']) === 'model_list');
  if (root.model_list === undefined && meant !== undefined)
    throw new SemrouteError(
      ErrorCode.CONFIG_INVALID,
      `${file ?? 'config'}: model_list: missing, and the file has an unknown key "${meant}": did you mean model_list?`,
      { file, path: meant, expected: 'model_list' },
    );
  const typo = (key: string, known: Iterable<string>) => {
    const near = nearestName(key, known);
    return near === undefined ? key : `${key} (did you mean ${near}?)`;
  };
  for (const key of unknownTop) unsupported.push(typo(key, TOP_LEVEL));
  const generalRaw = { ...asObject(root.general_settings, 'general_settings', file) };
  for (const key of Object.keys(generalRaw))
    if (!GENERAL_KEYS.has(key)) unsupported.push(`general_settings.${typo(key, GENERAL_KEYS)}`);
  // LiteLLM's limit is in MB.
  if (generalRaw.max_request_size_mb !== undefined && generalRaw.max_request_size_bytes === undefined)
    generalRaw.max_request_size_bytes = Math.round(Number(generalRaw.max_request_size_mb) * 1024 * 1024);
  delete generalRaw.max_request_size_mb;
  const modelList = withCredentials(root, file);
  unsupported.push(...ignoredParams(modelList));

  const gateway = parseGatewayConfig(
    { ...router, model_list: modelList },
    { ...(file ? { file } : {}), env, unset },
  );
  const general = GeneralSettingsSchema.safeParse(generalRaw);
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
  adaptiveRouters(gateway, (w) => warnings.push(w));
  // Checked here too, so a bad complexity_router_config stops the start naming the file.
  for (const c of complexityRouters(gateway, baseDir)) {
    if (c.ignored.length > 0)
      warnings.push(
        `${c.model}: complexity_router_config keys semroute does not run, ignored: ${c.ignored.join(', ')}`,
      );
  }
  const routerFiles = semantic.map((m) => m.file).filter((f): f is string => f !== undefined);
  if (unsupported.length > 0)
    warnings.unshift(`ignored (semroute does not support them): ${groupKeys(unsupported)}`);
  if (unset.length > 0)
    warnings.push(`environment variables not set, read as absent (as LiteLLM does): ${describeUnset(unset)}`);
  warnings.push(...gateway.resolved.warnings);
  const otel = readCallbacks(root.litellm_settings, file, warnings);
  return deepFreeze({
    otel,
    file,
    gateway,
    general: general.data,
    baseDir,
    semantic,
    routerFiles,
    unsupported,
    warnings,
    verbose:
      root.litellm_settings !== undefined &&
      (root.litellm_settings as { set_verbose?: unknown }).set_verbose === true,
  });
}

export async function loadProxyConfig(file: string, env?: NodeJS.ProcessEnv): Promise<ProxyConfig> {
  const text = await readTextFile(file, 16 * 1024 * 1024);
  const document = await withIncludes(asObject(parseYaml(text, file), '(root)', file), file);
  return parseProxyConfig(document, { file, ...(env ? { env } : {}) });
}

/**
 * litellm_settings.callbacks / success_callback / failure_callback: lists of names. `otel` turns
 * on OpenTelemetry traces; the others (langfuse, datadog, …) are integrations semroute does not
 * have, said once at start rather than dropped silently.
 */
function readCallbacks(litellm: unknown, file: string | undefined, warnings: string[]): boolean {
  const settings = asObject(litellm, 'litellm_settings', file);
  let otel = false;
  const others: string[] = [];
  for (const key of ['callbacks', 'success_callback', 'failure_callback']) {
    const value = settings[key];
    if (value === undefined) continue;
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || list.some((v) => typeof v !== 'string'))
      throw new SemrouteError(
        ErrorCode.CONFIG_INVALID,
        `${file ?? 'config'}: litellm_settings.${key}: expected a list of callback names such as ["otel"]`,
        { file, path: `litellm_settings.${key}`, expected: 'a list of callback names' },
      );
    for (const name of list as string[]) {
      if (CALLBACKS.has(name)) otel = true;
      else others.push(`${key}: ${name}`);
    }
  }
  if (others.length > 0)
    warnings.push(
      `litellm_settings callbacks semroute does not have, ignored: ${others.join(', ')} (semroute exports OpenTelemetry traces with "otel", and Prometheus at /metrics)`,
    );
  return otel;
}
