/**
 * LiteLLM's `os.environ/NAME` references: a string value that names an environment variable.
 * Resolved once, where a config is parsed, never later.
 */
import { ErrorCode, formatPath, SemrouteError } from '../errors.js';

export const ENV_PREFIX = 'os.environ/';

/** Replaces every `os.environ/KEY` string with the variable's value; a missing one is an error naming path and variable. */
export function resolveEnvRefs(
  value: unknown,
  env: NodeJS.ProcessEnv,
  file?: string,
  path: PropertyKey[] = [],
): unknown {
  if (typeof value === 'string' && value.startsWith(ENV_PREFIX)) {
    const name = value.slice(ENV_PREFIX.length);
    const resolved = env[name];
    if (resolved === undefined || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new SemrouteError(
        ErrorCode.CONFIG_INVALID,
        `${file ?? 'config'}: ${formatPath(path)}: environment variable ${name || '(empty name)'} is not set`,
        { file, path: formatPath(path), expected: `the environment variable ${name} to be set` },
      );
    }
    return resolved;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveEnvRefs(v, env, file, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveEnvRefs(v, env, file, [...path, k])]),
    );
  }
  return value;
}
