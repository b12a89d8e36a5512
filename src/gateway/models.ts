/**
 * The names a client may ask for and what they mean: model groups of deployments, wildcard
 * groups (`model_name: "*"`, `anthropic/*`), aliases (`model_group_alias`), semantic routers,
 * adaptive routers and `auto`; which names a virtual key may use; and the HTTP client of each
 * upstream. Built once from a parsed config.
 */
import type { Dispatcher } from 'undici';
import type { AdaptiveRouter } from '../config/adaptive-routers.js';
import {
  entryName,
  type GatewayConfig,
  isAutoRouterEntry,
  type ModelEntry,
} from '../config/gateway-schema.js';
import { impliedProvider } from '../config/providers.js';
import { resolveTarget, type Target } from '../config/targets.js';
import { ErrorCode, SemrouteError } from '../errors.js';
import { type Deployment, toDeployment } from './deployment.js';
import { compileGlob, type Glob } from './glob.js';
import type { UpstreamClient } from './upstream/client.js';
import { createClient } from './upstream/wire.js';

/** OpenRouter's names for its auto router. */
export const AUTO_MODELS: ReadonlySet<string> = new Set(['auto', 'openrouter/auto']);

export type ModelKind =
  | 'group'
  | 'wildcard'
  | 'alias'
  | 'auto_router'
  | 'complexity_router'
  | 'adaptive_router'
  | 'auto';

export interface ListedModel {
  id: string;
  kind: ModelKind;
  target?: string;
  /** What a wildcard accepts, e.g. `anthropic/<any model>`. */
  accepts?: string;
}

/** A group a requested name resolves to; for a wildcard, what the `*`s matched. */
export interface GroupMatch {
  group: string;
  /** The name asked for and the parts the pattern's `*`s matched (a wildcard group only). */
  wildcard: { requested: string; captures: string[] } | undefined;
}

/** Modes whose deployments answer chat requests (`auto` picks among them). */
const CHAT_MODES = new Set(['chat', 'completion', 'responses']);
/** Clients built for wildcard names are kept up to this many per table. */
const MAX_DYNAMIC_TARGETS = 256;

/** The `*`s of a deployment's model replaced by what the request's name matched. */
export function substitute(model: string, match: GroupMatch['wildcard']): string {
  if (match === undefined || !model.includes('*')) return model;
  const stars = model.split('*').length - 1;
  // LiteLLM's rule: when the counts differ, the requested name is used as it is.
  if (stars !== match.captures.length) return match.requested;
  let i = 0;
  return model.replace(/\*/g, () => match.captures[i++] ?? '');
}

export class ModelTable {
  private readonly groups = new Map<string, Deployment[]>();
  private readonly entries = new Map<Deployment, ModelEntry>();
  private readonly clients = new Map<Target, UpstreamClient>();
  private readonly dynamic = new Map<string, Target>();
  /** Per catch-all entry with its own key or base, the provider those belong to. */
  private readonly ownProvider = new WeakMap<ModelEntry, string>();
  /** Wildcard groups, the longest pattern first (LiteLLM's order; ties keep config order). */
  private readonly patterns: Glob[] = [];
  private readonly adaptive = new Map<string, AdaptiveRouter>();

  constructor(
    private readonly config: GatewayConfig,
    /** Names of the semantic routers (auto_router entries), listed after groups and aliases. */
    private readonly semantic: readonly string[],
    private readonly dispatcher: Dispatcher | undefined,
    adaptive: readonly AdaptiveRouter[] = [],
    /** Names of the complexity routers. */
    private readonly complexity: readonly string[] = [],
  ) {
    config.model_list.forEach((entry, i) => {
      if (isAutoRouterEntry(entry)) return;
      const d = toDeployment(entry, config.resolved.targets[i]);
      this.entries.set(d, entry);
      const group = this.groups.get(d.group);
      if (group === undefined) {
        this.groups.set(d.group, [d]);
        if (d.group.includes('*')) this.patterns.push(compileGlob(d.group));
      } else group.push(d);
    });
    this.patterns.sort((a, b) => b.pattern.length - a.pattern.length);
    for (const a of adaptive) {
      const missing = a.pool.filter((g) => !this.groups.has(this.aliasTarget(g)));
      if (missing.length > 0) {
        throw new SemrouteError(
          ErrorCode.CONFIG_INVALID,
          `${a.model}: adaptive_router_config.available_models names ${missing.join(', ')}, which no model_list entry serves`,
          { path: 'adaptive_router_config.available_models', expected: [...this.groups.keys()].join(', ') },
        );
      }
      this.adaptive.set(a.model, a);
    }
  }

  /** The group an alias names, or the name itself. */
  aliasTarget(model: string): string {
    const target = this.config.model_group_alias[model];
    return target === undefined ? model : typeof target === 'string' ? target : target.model;
  }

  hasGroup(group: string): boolean {
    return this.groups.has(group);
  }

  /**
   * The group serving a name: the group of that name, else the first wildcard that matches it
   * (as written, then with the provider its name implies, as LiteLLM tries `gpt-4o` against
   * `openai/*`). Exact names always win over wildcards.
   */
  match(name: string): GroupMatch | undefined {
    if (this.groups.has(name)) return { group: name, wildcard: undefined };
    if (this.patterns.length === 0) return undefined;
    const provider = impliedProvider(name);
    for (const candidate of provider === undefined ? [name] : [name, `${provider}/${name}`]) {
      for (const pattern of this.patterns) {
        const captures = pattern.match(candidate);
        if (captures !== undefined)
          return { group: pattern.pattern, wildcard: { requested: candidate, captures } };
      }
    }
    return undefined;
  }

  adaptiveRouter(name: string): AdaptiveRouter | undefined {
    return this.adaptive.get(name);
  }

  deployments(group: string): readonly Deployment[] {
    return this.groups.get(group) ?? [];
  }

  entry(deployment: Deployment): ModelEntry {
    return this.entries.get(deployment)!;
  }

  /**
   * Where a call to this deployment goes, for this request: its own target, with the wildcard's
   * `*`s filled in; a `model: "*"` deployment's provider is read from the name asked for.
   */
  target(d: Deployment, match: GroupMatch['wildcard']): { target: Target; model: string } {
    if (d.target !== undefined) return { target: d.target, model: substitute(d.target.model, match) };
    const entry = this.entries.get(d)!;
    const model = substitute(entry.litellm_params.model, match);
    let target = this.dynamic.get(model);
    if (target === undefined) {
      try {
        const index = this.config.model_list.indexOf(entry);
        target = resolveTarget(
          { ...entry.litellm_params, model },
          this.config.resolved.env,
          { label: entryName(index, entry), path: `model_list[${index}]` },
          () => {},
        );
      } catch (error) {
        // The request named a model this wildcard cannot serve: the request's fault.
        throw new SemrouteError(
          ErrorCode.INPUT_INVALID,
          `model "${match?.requested ?? model}": ${(error as Error).message}`,
          {
            path: 'model',
            cause: error,
          },
        );
      }
      this.checkOwnProvider(entry, target, match?.requested ?? model);
      if (this.dynamic.size >= MAX_DYNAMIC_TARGETS) this.dynamic.clear();
      this.dynamic.set(model, target);
    }
    if (target.unavailable !== undefined)
      throw new SemrouteError(
        ErrorCode.PROVIDER_UNSUPPORTED,
        `model "${match?.requested ?? model}": ${target.unavailable}`,
        { path: 'model', expected: 'a model of a provider semroute calls' },
      );
    return { target, model: target.model };
  }

  /**
   * A catch-all `*` deployment with a key or base of its own reaches only the provider those
   * belong to (its custom_llm_provider, else what an unprefixed name goes to): otherwise a client
   * naming `llamafile/x` or `ollama/x` would have the operator's key sent wherever that points.
   */
  private checkOwnProvider(entry: ModelEntry, target: Target, requested: string): void {
    const p = entry.litellm_params;
    if (p.api_key === undefined && p.api_base === undefined && p.base_url === undefined) return;
    let own = this.ownProvider.get(entry);
    if (own === undefined) {
      own = resolveTarget(
        { ...p, model: 'model' },
        this.config.resolved.env,
        { label: '', path: '' },
        () => {},
      ).provider.name;
      this.ownProvider.set(entry, own);
    }
    if (target.provider.name !== own)
      throw new SemrouteError(
        ErrorCode.MODEL_NOT_ALLOWED,
        `model "${requested}": this deployment carries its own api_key/api_base and only reaches ${own}, not ${target.provider.name}`,
        { path: 'model', expected: `a ${own} model` },
      );
  }

  /** The HTTP client of a target, built once. */
  client(target: Target): UpstreamClient {
    let client = this.clients.get(target);
    if (client === undefined) {
      client = createClient(target, this.dispatcher);
      if (this.clients.size >= MAX_DYNAMIC_TARGETS * 2) this.clients.clear();
      this.clients.set(target, client);
    }
    return client;
  }

  /** Groups that serve chat (a chat-like model_info.mode, and not a wildcard), for `auto`'s pool. */
  chatGroups(): string[] {
    return [...this.groups.keys()].filter(
      (g) => !g.includes('*') && CHAT_MODES.has(this.groups.get(g)![0]!.info.mode),
    );
  }

  /** Names a client may ask for: groups, wildcards, aliases, auto_router and adaptive entries, `auto`. */
  list(): ListedModel[] {
    const out: ListedModel[] = [];
    for (const g of this.groups.keys()) {
      if (!g.includes('*')) out.push({ id: g, kind: 'group' });
      else out.push({ id: g, kind: 'wildcard', accepts: g.replace(/\*/g, '<any model>') });
    }
    for (const [alias, target] of Object.entries(this.config.model_group_alias)) {
      if (typeof target === 'object' && target.hidden) continue;
      out.push({ id: alias, kind: 'alias', target: typeof target === 'string' ? target : target.model });
    }
    for (const g of this.semantic) out.push({ id: g, kind: 'auto_router' });
    for (const c of this.complexity) out.push({ id: c, kind: 'complexity_router' });
    for (const a of this.adaptive.keys()) out.push({ id: a, kind: 'adaptive_router' });
    out.push({ id: 'auto', kind: 'auto' });
    return out;
  }

  /** MODEL_NOT_ALLOWED unless the caller's key may use this name (asked for, or the group it resolves to). */
  checkAllowed(names: readonly string[], allowed: readonly string[] | undefined): void {
    if (allowed === undefined || names.some((n) => allowed.includes(n))) return;
    throw new SemrouteError(ErrorCode.MODEL_NOT_ALLOWED, `This key may not use model "${names.at(-1)}"`, {
      path: 'model',
    });
  }

  notFound(model: string): SemrouteError {
    return new SemrouteError(ErrorCode.MODEL_NOT_FOUND, `The model "${model}" does not exist`, {
      path: 'model',
      expected: this.list()
        .map((m) => m.id)
        .join(', '),
    });
  }
}
