/**
 * Tag routing, as LiteLLM documents it (router_settings.enable_tag_filtering): a request's tags
 * (`tags`, `metadata.tags`, the `x-litellm-tags` header) select the deployments carrying them:
 * any of them by default, all of them with `tag_filtering_match_any: false`. Deployments tagged
 * `default` take untagged requests, and tagged ones nothing else matched. Deployments without
 * tags never take a tagged request.
 */
import { ErrorCode, SemrouteError } from '../../errors.js';
import type { Deployment } from '../deployment.js';

export const DEFAULT_TAG = 'default';

export function filterByTags(
  group: string,
  deployments: readonly Deployment[],
  tags: readonly string[] | undefined,
  matchAny: boolean,
): readonly Deployment[] {
  const defaults = deployments.filter((d) => d.tags.includes(DEFAULT_TAG));
  if (tags === undefined || tags.length === 0) return defaults.length > 0 ? defaults : deployments;
  const matched = deployments.filter((d) =>
    matchAny ? tags.some((t) => d.tags.includes(t)) : tags.every((t) => d.tags.includes(t)),
  );
  if (matched.length > 0) return matched;
  if (defaults.length > 0) return defaults;
  throw new SemrouteError(
    ErrorCode.TAGS_NOT_MATCHED,
    `Not allowed to access model due to tags configuration: no deployment of "${group}" carries ${matchAny ? 'any' : 'all'} of the tags ${tags.join(', ')}, and none is tagged "${DEFAULT_TAG}"`,
    { path: 'tags', expected: [...new Set(deployments.flatMap((d) => d.tags))].join(', ') || 'no tags' },
  );
}
