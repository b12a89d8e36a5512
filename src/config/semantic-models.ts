/**
 * Which models of a gateway config are semantic routers, and where each one's router.json is:
 * `auto_router/…` entries of `model_list` and OpenRouter-style `auto` with
 * `auto_router_config_path`. Resolved once, here, for the gateway (which compiles them), the
 * proxy's runtime (which watches their files) and the route page (which edits them).
 */
import path from 'node:path';
import { ErrorCode, SemrouteError } from '../errors.js';
import { AUTO_ROUTER_PREFIX, type GatewayConfig, isAutoRouterEntry } from './gateway-schema.js';

export { AUTO_ROUTER_PREFIX, isAutoRouterEntry };

/** LiteLLM's adaptive router: not semantic, an `auto` pool ranked by cost and quality (adaptive-routers.ts). */
export const ADAPTIVE_ROUTER = 'auto_router/adaptive_router';
/** LiteLLM's complexity router: not semantic, tiers by difficulty (complexity-routers.ts). */
const COMPLEXITY_ROUTER = 'auto_router/complexity_router';

export interface SemanticModel {
  /** The model name clients ask for: the entry's `model_name`, or `auto`. */
  readonly model: string;
  readonly kind: 'auto_router' | 'auto';
  /** Absolute path of its router.json; undefined when the config holds it inline. */
  readonly file: string | undefined;
  /** The router.json object given inline (`auto_router_config`). */
  readonly inline: unknown;
  /** Where a request goes when no route passes (`auto_router_default_model`). */
  readonly defaultModel: string | undefined;
  /** A model_list group that embeds for this router (`auto_router_embedding_model`), LiteLLM's rule. */
  readonly embeddingModel: string | undefined;
}

/** The semantic models of a config; relative router.json paths resolve against `baseDir`. */
export function semanticModels(config: GatewayConfig, baseDir: string): SemanticModel[] {
  const out: SemanticModel[] = [];
  config.model_list.forEach((entry, i) => {
    if (!isAutoRouterEntry(entry)) return;
    const p = entry.litellm_params;
    if (p.model === ADAPTIVE_ROUTER || p.model === COMPLEXITY_ROUTER) return;
    // LiteLLM's other strategies (oracle_router, …) come with their own config key.
    const strategy = p.model.slice(AUTO_ROUTER_PREFIX.length);
    if (`${strategy}_config` in p) {
      throw new SemrouteError(
        ErrorCode.CONFIG_INVALID,
        `model_list[${i}] (${entry.model_name}): ${p.model} is LiteLLM's ${strategy.replace(/_/g, ' ')}, which semroute does not implement: use auto_router/<name> with a router.json (semantic routes), ${COMPLEXITY_ROUTER} or ${ADAPTIVE_ROUTER}`,
        {
          path: `model_list[${i}].litellm_params.model`,
          expected: `auto_router/<name>, ${COMPLEXITY_ROUTER} or ${ADAPTIVE_ROUTER}`,
        },
      );
    }
    if (p.auto_router_config_path === undefined && p.auto_router_config === undefined) {
      throw new SemrouteError(
        ErrorCode.CONFIG_INVALID,
        `model_list[${i}] (${entry.model_name}): auto_router needs auto_router_config_path or auto_router_config`,
        {
          path: `model_list[${i}].litellm_params.auto_router_config_path`,
          expected: 'the path of a router.json',
        },
      );
    }
    out.push({
      model: entry.model_name,
      kind: 'auto_router',
      file:
        p.auto_router_config !== undefined || p.auto_router_config_path === undefined
          ? undefined
          : path.resolve(baseDir, p.auto_router_config_path),
      inline: p.auto_router_config,
      defaultModel: p.auto_router_default_model,
      embeddingModel: p.auto_router_embedding_model,
    });
  });
  if (config.auto_router_config_path !== undefined) {
    out.push({
      model: 'auto',
      kind: 'auto',
      file: path.resolve(baseDir, config.auto_router_config_path),
      inline: undefined,
      defaultModel: undefined,
      embeddingModel: undefined,
    });
  }
  return out;
}
