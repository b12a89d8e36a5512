/**
 * The names a client may ask for and what they mean: model groups of deployments, aliases
 * (`model_group_alias`), semantic routers and `auto`; which names a virtual key may use; and the
 * HTTP client of each deployment. Built once from a parsed config.
 */
import type { Dispatcher } from 'undici';
import type { GatewayConfig, ModelEntry } from '../config/gateway-schema.js';
import { isAutoRouterEntry } from '../config/semantic-models.js';
import { ErrorCode, SemrouteError } from '../errors.js';
import { type Deployment, toDeployment } from './deployment.js';
import { createClient, type UpstreamClient } from './upstream/client.js';

/** OpenRouter's names for its auto router. */
export const AUTO_MODELS: ReadonlySet<string> = new Set(['auto', 'openrouter/auto']);

export type ModelKind = 'group' | 'alias' | 'auto_router' | 'auto';

export interface ListedModel {
  id: string;
  kind: ModelKind;
  target?: string;
}

export class ModelTable {
  private readonly groups = new Map<string, Deployment[]>();
  private readonly entries = new Map<string, ModelEntry>();
  private readonly clients = new Map<string, UpstreamClient>();

  constructor(
    private readonly config: GatewayConfig,
    /** Names of the semantic routers (auto_router entries), listed after groups and aliases. */
    private readonly semantic: readonly string[],
    dispatcher: Dispatcher | undefined,
  ) {
    for (const entry of config.model_list) {
      if (isAutoRouterEntry(entry)) continue;
      const d = toDeployment(entry);
      if (this.entries.has(d.id)) {
        throw new SemrouteError(
          ErrorCode.CONFIG_INVALID,
          `Two deployments share the id ${d.id} (${d.group})`,
          {
            path: 'model_list',
            expected: 'distinct model_info.id or parameters',
          },
        );
      }
      this.entries.set(d.id, entry);
      this.clients.set(d.id, createClient(entry, dispatcher));
      const group = this.groups.get(d.group);
      if (group === undefined) this.groups.set(d.group, [d]);
      else group.push(d);
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

  deployments(group: string): readonly Deployment[] {
    return this.groups.get(group) ?? [];
  }

  entry(deploymentId: string): ModelEntry {
    return this.entries.get(deploymentId)!;
  }

  client(deploymentId: string): UpstreamClient {
    return this.clients.get(deploymentId)!;
  }

  /** Groups that serve chat (not `mode: embedding`), for `auto`'s pool. */
  chatGroups(): string[] {
    return [...this.groups.keys()].filter(
      (g) => this.entry(this.groups.get(g)![0]!.id).model_info?.mode !== 'embedding',
    );
  }

  /** Names a client may ask for: groups, aliases, auto_router entries and `auto`. */
  list(): ListedModel[] {
    const out: ListedModel[] = [];
    for (const g of this.groups.keys()) out.push({ id: g, kind: 'group' });
    for (const [alias, target] of Object.entries(this.config.model_group_alias)) {
      if (typeof target === 'object' && target.hidden) continue;
      out.push({ id: alias, kind: 'alias', target: typeof target === 'string' ? target : target.model });
    }
    for (const g of this.semantic) out.push({ id: g, kind: 'auto_router' });
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
