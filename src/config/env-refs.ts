/**
 * LiteLLM's `os.environ/NAME` references, resolved the way LiteLLM resolves them (its
 * `get_secret`): a string value that starts with `os.environ/` becomes the variable's value;
 * `"true"`/`"false"` become booleans; an unset variable reads as absent, not as an error, so a
 * config that names a variable for a feature semroute ignores still starts. Lists are walked only
 * where their items are mappings: a plain string in a list stays as written, as in LiteLLM.
 * Resolved once, where a config is parsed, never later.
 *
 * What was unset is reported, with its path: one warning lists them all, and where a value is
 * needed to serve (`requiredEnvProblems`), one error lists every missing one at once.
 */
import { formatPath } from '../errors.js';

export const ENV_PREFIX = 'os.environ/';

export interface UnsetRef {
  /** The variable's name. */
  readonly name: string;
  /** Where the reference was, e.g. `model_list[2].litellm_params.api_key`. */
  readonly path: string;
}

export interface Resolved {
  readonly value: unknown;
  readonly unset: readonly UnsetRef[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** LiteLLM's depth limit on the walk (DEFAULT_MAX_RECURSE_DEPTH). */
const MAX_DEPTH = 100;

function resolveString(value: string, env: NodeJS.ProcessEnv): string | boolean | undefined {
  const name = value.slice(ENV_PREFIX.length);
  const found = NAME.test(name) ? env[name] : undefined;
  if (found === undefined) return undefined;
  const flag = found.trim().toLowerCase();
  return flag === 'true' ? true : flag === 'false' ? false : found;
}

/** Resolves every `os.environ/NAME` string; unset ones are dropped and listed, and so are null values of mappings. */
export function resolveEnvRefs(value: unknown, env: NodeJS.ProcessEnv, base: PropertyKey[] = []): Resolved {
  const unset: UnsetRef[] = [];
  const walk = (v: unknown, path: PropertyKey[], inList: boolean): unknown => {
    if (typeof v === 'string') {
      if (inList || !v.startsWith(ENV_PREFIX)) return v;
      const resolved = resolveString(v, env);
      if (resolved === undefined)
        unset.push({ name: v.slice(ENV_PREFIX.length) || '(empty name)', path: formatPath(path) });
      return resolved;
    }
    if (path.length - base.length > MAX_DEPTH) return v;
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i], true));
    if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) {
        const resolved = walk(item, [...path, k], false);
        // LiteLLM reads `key:` left empty, `~` and `null` as not set: absent here too.
        if (resolved !== undefined && resolved !== null) out[k] = resolved;
      }
      return out;
    }
    return v;
  };
  return { value: walk(value, base, false), unset };
}

/** "A (model_list[0].litellm_params.api_key), B (general_settings.alert_to_webhook_url)" */
export function describeUnset(refs: readonly UnsetRef[]): string {
  return refs.map((r) => `${r.name} (${r.path})`).join(', ');
}
