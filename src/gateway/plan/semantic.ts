/**
 * The semantic routers of a gateway, compiled when it is created (not on the first request),
 * each with the encoder the one rule gives it: the model_list group or model named by
 * `auto_router_embedding_model` when the config names one (LiteLLM's rule), else what its
 * router.json asks for. Encoders come from the shared pool; `embeddings/create.ts` alone picks
 * the implementation.
 */
import path from 'node:path';
import {
  type LoadedRouterConfig,
  loadRouterConfig,
  validateRouterConfig,
} from '../../config/router-config.js';
import type { SemanticModel } from '../../config/semantic-models.js';
import { type EncoderSpec, encoderTypes } from '../../embeddings/create.js';
import type { EncoderPool } from '../../embeddings/pool.js';
import { ErrorCode, SemrouteError } from '../../errors.js';
import { SemanticRouter } from '../../semantic/semantic-router.js';
import type { ModelTable } from '../models.js';
import { canServe, wireOf } from '../upstream/wire.js';

export interface CompiledSemantic {
  readonly spec: SemanticModel;
  readonly router: SemanticRouter;
  /** Where a request goes when no route passes. */
  readonly defaultModel: string;
  /** Why it embeds with what it does: its router.json, or the config's auto_router_embedding_model. */
  readonly encoderSource: 'router.json' | 'auto_router_embedding_model';
}

/** Where a semantic model is configured, for errors: the entry and its router.json. */
function whereIs(spec: SemanticModel): string {
  const entry =
    spec.kind === 'auto'
      ? 'auto (router_settings.auto_router_config_path)'
      : `model_list entry "${spec.model}"`;
  return spec.file === undefined ? entry : `${entry}, ${spec.file}`;
}

/** The encoder a semantic model uses (see the file comment). */
export function encoderSpecFor(
  model: SemanticModel,
  loaded: LoadedRouterConfig,
  table: ModelTable,
): EncoderSpec {
  const { config, file } = loaded;
  const name = model.embeddingModel;
  if (name === undefined) {
    return {
      type: config.encoder_type ?? undefined,
      name: config.encoder_name ?? undefined,
      options: config.encoder_options,
      file,
    };
  }
  // `auto_router_embedding_model: use-lite` (or `local`, `onnx`) asks for a local encoder by name.
  if (encoderTypes().includes(name)) return { type: name, name: config.encoder_name ?? undefined, file };
  const group = table.deployments(table.aliasTarget(name));
  const first = group[0];
  if (first === undefined) return { type: 'openai', name, file };
  const target = first.target;
  // The remote encoder calls it with the OpenAI SDK: a wire the SDK speaks, with embeddings.
  if (target === undefined || !wireOf(target).sdkCompatible || !canServe(target, 'embedding')) {
    throw new SemrouteError(
      ErrorCode.CONFIG_INVALID,
      `auto_router_embedding_model "${name}": its deployment is not an OpenAI-compatible embeddings API (${target?.provider.name ?? 'a wildcard'})`,
      {
        path: 'auto_router_embedding_model',
        expected: 'a model_list group of an OpenAI-compatible embeddings model',
      },
    );
  }
  // A key the config says comes from a variable that is unset: refused here, before any call
  // could reach the provider with no key (or with the placeholder local servers accept).
  if (target.apiKey === undefined && target.provider.keyRequired) {
    throw new SemrouteError(
      ErrorCode.ENCODER_NO_KEY,
      `auto_router_embedding_model "${name}": its deployment has no API key (${target.keySource ?? 'litellm_params.api_key'} is not set); to embed with the local model instead, set auto_router_embedding_model: use-lite`,
      { path: 'auto_router_embedding_model', expected: 'a group whose api_key is set, or use-lite' },
    );
  }
  return {
    type: 'openai',
    name: target.model,
    options: { api_key: target.apiKey ?? 'sk-no-key', base_url: target.baseUrl },
    file,
  };
}

/**
 * LiteLLM's rule: an auto_router's route sends to the model_list group of its name, and its
 * default model is a group too. A route or default naming none would send to the default
 * silently (or 404 every unmatched prompt): refused at start, reload, Save and Try.
 */
export function checkTargets(
  spec: SemanticModel,
  router: SemanticRouter,
  defaultModel: string,
  table: ModelTable,
): void {
  if (spec.kind !== 'auto_router') return;
  const groups = table
    .list()
    .filter((m) => m.kind === 'group' || m.kind === 'alias' || m.kind === 'wildcard')
    .map((m) => m.id);
  const serves = (name: string) => table.match(table.aliasTarget(name)) !== undefined;
  const missing = router.routes.filter((r) => !serves(r.name)).map((r) => r.name);
  if (missing.length > 0) {
    throw new SemrouteError(
      ErrorCode.CONFIG_INVALID,
      `route${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} name${missing.length > 1 ? '' : 's'} no model_list group: an auto_router sends each route to the group of its name (groups: ${groups.join(', ')})`,
      { path: 'routes[].name', expected: groups.join(' | '), details: { routes: missing } },
    );
  }
  if (defaultModel === '' || !serves(defaultModel)) {
    throw new SemrouteError(
      ErrorCode.CONFIG_INVALID,
      defaultModel === ''
        ? `no default model: set auto_router_default_model (or the router.json's default_route) to one of: ${groups.join(', ')}`
        : `auto_router_default_model "${defaultModel}" is no model_list group (groups: ${groups.join(', ')}): every prompt no route takes would fail`,
      { path: 'auto_router_default_model', expected: groups.join(' | ') },
    );
  }
}

export class SemanticRouters {
  private constructor(
    private readonly compiled: ReadonlyMap<string, CompiledSemantic>,
    private readonly table: ModelTable,
    private readonly encoders: EncoderPool,
  ) {}

  static async compile(
    models: readonly SemanticModel[],
    table: ModelTable,
    encoders: EncoderPool,
  ): Promise<SemanticRouters> {
    const compiled = new Map<string, CompiledSemantic>();
    // One router per (file, encoder): an `auto_router/…` entry and router_settings'
    // auto_router_config_path naming the same router.json embed the same utterances, and a
    // second compiled copy doubled a large router's memory (10k utterances: ~25 MB of vectors,
    // its HNSW graph and lexical index).
    const shared = new Map<string, SemanticRouter>();
    try {
      for (const spec of models) {
        try {
          const loaded =
            spec.file === undefined ? validateRouterConfig(spec.inline) : await loadRouterConfig(spec.file);
          const encoder = await encoders.get(encoderSpecFor(spec, loaded, table));
          const key = spec.file === undefined ? undefined : `${path.resolve(spec.file)}\u0000${encoder.id}`;
          const known = key === undefined ? undefined : shared.get(key);
          const router = known ?? (await SemanticRouter.fromLoaded(loaded, { encoder }));
          if (key !== undefined) shared.set(key, router);
          const defaultModel = spec.defaultModel ?? router.routerConfig.default_route ?? '';
          try {
            checkTargets(spec, router, defaultModel, table);
          } catch (error) {
            if (known === undefined) await router.close();
            throw error;
          }
          compiled.set(spec.model, {
            spec,
            router,
            defaultModel,
            encoderSource: spec.embeddingModel === undefined ? 'router.json' : 'auto_router_embedding_model',
          });
        } catch (error) {
          // Which semantic router could not start, named as the config names it.
          if (!(error instanceof SemrouteError) || error.message.startsWith(whereIs(spec))) throw error;
          throw new SemrouteError(error.code, `${whereIs(spec)}: ${error.message}`, {
            file: error.file ?? spec.file,
            path: error.path,
            expected: error.expected,
            cause: error,
            details: error.details,
          });
        }
      }
    } catch (error) {
      await Promise.all([...new Set([...compiled.values()].map((c) => c.router))].map((r) => r.close()));
      throw error;
    }
    return new SemanticRouters(compiled, table, encoders);
  }

  get(model: string): CompiledSemantic | undefined {
    return this.compiled.get(model);
  }

  /** Each semantic router with the encoder it embeds with, and why (logged at start and reload). */
  describe(): Array<{
    model: string;
    encoder: string;
    source: CompiledSemantic['encoderSource'];
    routes: number;
    warnings: readonly string[];
  }> {
    return [...this.compiled.values()].map((c) => ({
      model: c.spec.model,
      encoder: c.router.encoder.id,
      source: c.encoderSource,
      routes: c.router.routes.length,
      warnings: c.router.warnings,
    }));
  }

  /** The `auto_router/…` entries' names (not `auto`), in config order. */
  autoRouterNames(): string[] {
    return [...this.compiled.values()].filter((c) => c.spec.kind === 'auto_router').map((c) => c.spec.model);
  }

  /**
   * Compiles a router.json for one of these models with the encoder that model would use,
   * without installing it: the route page tries unsaved edits with it.
   */
  async compileDraft(model: string, raw: unknown): Promise<SemanticRouter | undefined> {
    const current = this.compiled.get(model);
    if (current === undefined) return undefined;
    const loaded = validateRouterConfig(raw, current.spec.file);
    const encoder = await this.encoders.get(encoderSpecFor(current.spec, loaded, this.table));
    const router = await SemanticRouter.fromLoaded(loaded, { encoder, cacheDir: false });
    try {
      checkTargets(
        current.spec,
        router,
        current.spec.defaultModel ?? router.routerConfig.default_route ?? '',
        this.table,
      );
    } catch (error) {
      await router.close();
      throw error;
    }
    return router;
  }

  async close(): Promise<void> {
    // A router two entries share is closed once.
    await Promise.all([...new Set([...this.compiled.values()].map((c) => c.router))].map((r) => r.close()));
  }
}
