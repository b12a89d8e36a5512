/**
 * A depth budget for request bodies, checked once at the edge, before any route reads the body:
 * a 10 KB body nested 5,000 deep overflows the stack of whatever walks it later (serialising it
 * upstream, counting its tokens), and that must be the request's 400, naming where, never a 500
 * or a failure charged to a deployment. The walk is iterative, so checking costs no stack.
 */
import { ErrorCode, SemrouteError } from '../errors.js';

/** The path of the first value nested deeper than `maxDepth`, or undefined. */
export function tooDeep(body: unknown, maxDepth: number): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const stack: Array<{ value: object; depth: number; path: string }> = [{ value: body, depth: 1, path: '' }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (depth > maxDepth) return path || '(body)';
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const child = value[i];
        if (child !== null && typeof child === 'object')
          stack.push({ value: child, depth: depth + 1, path: `${path}[${i}]` });
      }
    } else {
      for (const key in value) {
        const child = (value as Record<string, unknown>)[key];
        if (child !== null && typeof child === 'object')
          stack.push({ value: child, depth: depth + 1, path: path === '' ? key : `${path}.${key}` });
      }
    }
  }
  return undefined;
}

export function checkDepth(body: unknown, maxDepth: number): void {
  const at = tooDeep(body, maxDepth);
  if (at === undefined) return;
  // A path thousands of levels long is no help to read: its start says where.
  const shown = at.length > 200 ? `${at.slice(0, 200)}…` : at;
  throw new SemrouteError(
    ErrorCode.INPUT_INVALID,
    `${shown}: the body is nested deeper than ${maxDepth} levels (general_settings.max_body_depth)`,
    {
      path: shown,
      expected: `at most ${maxDepth} levels of nesting`,
    },
  );
}
