/**
 * config.yaml read as LiteLLM reads it (PyYAML's YAML 1.1, pydantic's lax types, get_secret's
 * os.environ/ rules), providers resolved as LiteLLM resolves them. Configs are our own, shaped
 * like the ones in LiteLLM's docs and example folder.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProxyConfig, parseProxyConfig } from '../../src/config/proxy-config.js';
import { parseYaml } from '../../src/config/yaml.js';
import { isSemrouteError, type SemrouteError } from '../../src/errors.js';
import { ModelTable } from '../../src/gateway/models.js';
import { tempDir } from '../helpers/encoder.js';

const parse = (yaml: string, env: NodeJS.ProcessEnv = {}) =>
  parseProxyConfig(parseYaml(yaml, 'config.yaml'), { file: 'config.yaml', env });
const failure = (yaml: string, env: NodeJS.ProcessEnv = {}): SemrouteError => {
  try {
    parse(yaml, env);
  } catch (error) {
    if (isSemrouteError(error)) return error;
    throw error;
  }
  throw new Error('accepted');
};

describe('YAML as PyYAML reads it', () => {
  it('reads YAML 1.1 scalars the way LiteLLM receives them', () => {
    const doc = parseYaml(
      'a: 80_000\nb: yes\nc: off\nd: y\ne: 09\nf: 1e3\ng: 2023-05-15\nh: 0x1F\ni: ~\nj:\nk: 1.5e-7\non: 1\n',
      'x.yaml',
    );
    expect(doc).toEqual({
      a: 80000,
      b: true,
      c: false,
      d: 'y',
      e: '09',
      f: '1e3',
      g: '2023-05-15',
      h: 31,
      i: null,
      j: null,
      k: 1.5e-7,
      on: 1,
    });
  });

  it('takes numbers written with underscores, numeric text, and yes/no flags in config fields', () => {
    const config = parse(`
model_list:
  - model_name: g
    litellm_params: { model: openai/gpt-4o, api_key: sk-x, tpm: 80_000, rpm: "100", input_cost_per_token: 6e-7 }
router_settings:
  num_retries: "3"
  disable_cooldowns: yes
  enable_tag_filtering: on
`);
    const entry = config.gateway.model_list[0]!.litellm_params;
    expect([entry.tpm, entry.rpm, entry.input_cost_per_token]).toEqual([80000, 100, 6e-7]);
    expect(config.gateway.num_retries).toBe(3);
    expect(config.gateway.disable_cooldowns).toBe(true);
    expect(config.gateway.enable_tag_filtering).toBe(true);
  });

  it('reads empty and null values as absent, api_version dates as their text, any model_info.mode', () => {
    const config = parse(
      `
model_list:
  - model_name: g
    litellm_params: { model: azure/gpt-4o, api_base: "https://x.openai.azure.com", api_key:, api_version: 2024-06-01, organization: ~ }
    model_info: { mode: batch }
  - model_name: r
    litellm_params: { model: openai/rerank-x, api_key: k }
    model_info: { mode: rerank }
litellm_settings: ~
general_settings:
`,
      { AZURE_API_KEY: 'az-from-env' },
    );
    const target = config.gateway.resolved.targets[0]!;
    expect(target.apiKey).toBe('az-from-env');
    expect(target.keySource).toBe('AZURE_API_KEY');
    expect(target.apiVersion).toBe('2024-06-01');
    expect(config.gateway.model_list[0]!.litellm_params.organization).toBeUndefined();
    expect(config.gateway.model_list.map((m) => m.model_info?.mode)).toEqual(['batch', 'rerank']);
  });
});

describe('os.environ/ references, as LiteLLM resolves them', () => {
  it('reads unset variables as absent with one warning listing them all, and leaves strings in lists', () => {
    const config = parse(
      `
model_list:
  - model_name: g
    litellm_params: { model: openai/gpt-4o, api_key: os.environ/UNSET_ONE, api_base: os.environ/BASE }
litellm_settings:
  fallbacks: [{ g: ["os.environ/NOT_RESOLVED_IN_LISTS"] }]
general_settings:
  metrics_open: os.environ/OPEN_METRICS
  alert_to_webhook_url: { llm_exceptions: os.environ/UNSET_TWO }
`,
      { BASE: 'http://127.0.0.1:9/v1', OPEN_METRICS: 'True' },
    );
    expect(config.gateway.model_list[0]!.litellm_params.api_key).toBeUndefined();
    expect(config.gateway.fallbacks).toEqual([{ g: ['os.environ/NOT_RESOLVED_IN_LISTS'] }]);
    expect(config.general.metrics_open).toBe(true);
    const unset = config.warnings.filter((w) => w.startsWith('environment variables not set'));
    expect(unset).toEqual([
      'environment variables not set, read as absent (as LiteLLM does): UNSET_ONE (model_list[0].litellm_params.api_key), UNSET_TWO (general_settings.alert_to_webhook_url.llm_exceptions)',
    ]);
  });

  it('stops the start where a value is needed to serve, listing every missing one with its path', () => {
    const error = failure(`
model_list:
  - model_name: g
    litellm_params: { model: os.environ/MODEL_A }
  - model_name: os.environ/NAME_B
    litellm_params: { model: openai/x }
`);
    expect(error.message).toContain(
      'model_list[0].litellm_params.model: needs a value, but the environment variable MODEL_A is not set',
    );
    expect(error.message).toContain(
      'model_list[1].model_name: needs a value, but the environment variable NAME_B is not set',
    );
    const master = failure(`
model_list: [{ model_name: g, litellm_params: { model: openai/x, api_key: k } }]
general_settings: { master_key: os.environ/LITELLM_MASTER_KEY }
router_settings: { redis_host: os.environ/REDIS_HOST }
`);
    expect(master.message).toContain('general_settings.master_key');
    expect(master.message).toContain('LITELLM_MASTER_KEY');
    expect(master.message).toContain('router_settings.redis_host');
  });
});

describe('what the start warning says is ignored', () => {
  it('names exactly the keys semroute does not read, grouped by section, on one line', () => {
    const config = parse(`
model_list:
  - model_name: g
    litellm_params: { model: openai/gpt-4o, api_key: k, region_name: eu, temperature: 0.2, max_budget: 10 }
router_settings:
  routing_strategy: usage-based-routing-v2
  enable_pre_call_checks: true
  provider_budget_config: {}
litellm_settings:
  drop_params: true
  set_verbose: false
  json_logs: true
  telemetry: false
  request_timeout: 30
  success_callback: [langfuse]
  cache: true
  cache_params: { type: redis, host: localhost, port: 6379, supported_call_types: [acompletion] }
general_settings:
  master_key: sk-1234
  database_url: postgres://x
  max_request_size_mb: 2
guardrails: []
`);
    const ignored = config.warnings.filter((w) => w.startsWith('ignored'));
    expect(ignored).toEqual([
      'ignored (semroute does not support them): router_settings: provider_budget_config; litellm_settings: cache_params.supported_call_types; guardrails; general_settings: database_url; model_list[0]: litellm_params.region_name, litellm_params.max_budget',
    ]);
    expect(config.general.max_request_size_bytes).toBe(2 * 1024 * 1024);
    expect(config.gateway.drop_params).toBe(true);
    expect(config.gateway.timeout).toBe(30);
    expect(config.gateway.request_timeout).toBe(30);
    expect(config.gateway.redis_host).toBe('localhost');
  });
});

describe('providers, as LiteLLM resolves them', () => {
  it('sends a bare claude-* to Anthropic with ANTHROPIC_API_KEY, and other bare names to theirs', () => {
    const config = parse(
      `
model_list:
  - { model_name: claude, litellm_params: { model: claude-3-5-sonnet-latest } }
  - { model_name: gpt, litellm_params: { model: gpt-4.1 } }
  - { model_name: gemini, litellm_params: { model: gemini-2.0-flash } }
  - { model_name: groq-by-host, litellm_params: { model: llama3-8b-8192, api_base: "https://api.groq.com/openai/v1", api_key: gsk } }
  - { model_name: vllm, litellm_params: { model: hosted_vllm/meta-llama/Llama-3.1-8B, api_base: "http://127.0.0.1:8000/v1" } }
  - { model_name: any-server, litellm_params: { model: my-model, api_base: "http://127.0.0.1:8001/v1" } }
  - { model_name: ds, litellm_params: { model: deepseek/deepseek-chat } }
`,
      {
        ANTHROPIC_API_KEY: 'sk-ant',
        OPENAI_API_KEY: 'sk-oai',
        GEMINI_API_KEY: 'gem',
        DEEPSEEK_API_KEY: 'ds',
      },
    );
    const rows = config.gateway.resolved.targets.map((t) => [
      t!.provider.name,
      t!.baseUrl,
      t!.model,
      t!.keySource,
    ]);
    expect(rows).toEqual([
      ['anthropic', 'https://api.anthropic.com', 'claude-3-5-sonnet-latest', 'ANTHROPIC_API_KEY'],
      ['openai', 'https://api.openai.com/v1', 'gpt-4.1', 'OPENAI_API_KEY'],
      [
        'gemini',
        'https://generativelanguage.googleapis.com/v1beta/openai',
        'gemini-2.0-flash',
        'GEMINI_API_KEY',
      ],
      ['groq', 'https://api.groq.com/openai/v1', 'llama3-8b-8192', 'litellm_params.api_key'],
      ['hosted_vllm', 'http://127.0.0.1:8000/v1', 'meta-llama/Llama-3.1-8B', undefined],
      ['openai', 'http://127.0.0.1:8001/v1', 'my-model', 'OPENAI_API_KEY'],
      ['deepseek', 'https://api.deepseek.com/v1', 'deepseek-chat', 'DEEPSEEK_API_KEY'],
    ]);
  });

  it('starts a provider semroute cannot call as unavailable, with one warning naming every such entry', () => {
    const config = parse(`
model_list:
  - { model_name: a, litellm_params: { model: sagemaker/my-endpoint } }
  - { model_name: b, litellm_params: { model: replicate/meta/llama-3-70b } }
  - { model_name: c, litellm_params: { model: openai/gpt-4o-mini, api_key: sk-x } }
`);
    const targets = config.gateway.resolved.targets;
    expect(targets[0]?.unavailable).toContain('semroute cannot call sagemaker');
    expect(targets[1]?.unavailable).toContain('semroute cannot call replicate');
    expect(targets[2]?.unavailable).toBeUndefined();
    const warning = config.warnings.filter((w) => w.includes('cannot call'));
    expect(warning).toHaveLength(1);
    expect(warning[0]).toContain('model_list[0] (a) (sagemaker), model_list[1] (b) (replicate)');
    expect(warning[0]).toContain('supported providers: openai, custom_openai');
  });

  it('refuses what no provider can serve, naming the entries, at once for all', () => {
    const error = failure(`
model_list:
  - { model_name: c, litellm_params: { model: hosted_vllm/llama } }
  - { model_name: d, litellm_params: { model: some-unknown-model } }
`);
    expect(error.message).toContain(
      'model_list[0] (c): hosted_vllm has no default address: set litellm_params.api_base (or HOSTED_VLLM_API_BASE)',
    );
    expect(error.message).toContain('cannot tell which provider serves "some-unknown-model"');
  });

  it('warns when a hosted provider has no key, naming the variable', () => {
    const config = parse(
      'model_list: [{ model_name: c, litellm_params: { model: anthropic/claude-3-5-haiku-latest } }]',
    );
    expect(config.warnings).toContain(
      'model_list[0] (c): no API key for anthropic: set ANTHROPIC_API_KEY or litellm_params.api_key; until then its calls are refused',
    );
  });
});

describe('LiteLLM config shapes', () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(() => dir.cleanup());

  it('keeps duplicate deployments as LiteLLM does: both are candidates, one id', () => {
    const config = parse(`
model_list:
  - { model_name: s, litellm_params: { model: openai/gpt-4o, api_key: k } }
  - { model_name: s, litellm_params: { model: openai/gpt-4o, api_key: k } }
  - { model_name: s, litellm_params: { model: openai/gpt-4o, api_key: k, tags: [paid] } }
`);
    const table = new ModelTable(config.gateway, [], undefined);
    const ids = table.deployments('s').map((d) => d.id);
    expect(ids).toHaveLength(3);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('merges include: files and fills params from credential_list', async () => {
    await writeFile(
      path.join(dir.dir, 'models.yaml'),
      'model_list:\n  - model_name: extra\n    litellm_params: { model: openai/gpt-4o-mini, litellm_credential_name: shared }\n',
    );
    await writeFile(
      path.join(dir.dir, 'config.yaml'),
      `include: [models.yaml]
model_list:
  - model_name: main
    litellm_params: { model: openai/gpt-4o, api_key: own }
credential_list:
  - credential_name: shared
    credential_values: { api_key: from-credential, api_base: "http://127.0.0.1:9/v1" }
    credential_info: { description: team key }
`,
    );
    const config = await loadProxyConfig(path.join(dir.dir, 'config.yaml'), {});
    expect(config.gateway.model_list.map((m) => m.model_name)).toEqual(['main', 'extra']);
    expect(config.gateway.resolved.targets[1]).toMatchObject({
      apiKey: 'from-credential',
      baseUrl: 'http://127.0.0.1:9/v1',
    });
  });

  it('accepts the adaptive and complexity routers, refuses a classifier it does not run and an unknown strategy', () => {
    const config = parse(`
model_list:
  - model_name: smart-cheap-router
    litellm_params:
      model: auto_router/adaptive_router
      adaptive_router_config: { available_models: [fast], weights: { quality: 0.7, cost: 0.3 }, exploration_rate: 0.05 }
  - { model_name: fast, litellm_params: { model: openai/gpt-4o-mini, api_key: k } }
`);
    expect(
      config.warnings.some(
        (w) =>
          w.includes('auto_router/adaptive_router ranks fast by cost and quality_tier') &&
          w.includes('ignored: exploration_rate'),
      ),
    ).toBe(true);
    const llm = failure(`
model_list:
  - { model_name: fast, litellm_params: { model: openai/gpt-4o-mini, api_key: k } }
  - model_name: c
    litellm_params: { model: auto_router/complexity_router, complexity_router_config: { classifier_type: llm, tiers: { SIMPLE: fast } } }
`);
    expect(llm.message).toContain(
      `complexity_router_config.classifier_type: "llm" is not a classifier semroute runs`,
    );
    expect(llm.message).toContain('heuristic or semroute');
    const oracle = failure(`
model_list:
  - { model_name: c, litellm_params: { model: auto_router/oracle_router, oracle_router_config: {} } }
`);
    expect(oracle.message).toContain('oracle router, which semroute does not implement');
  });
});
