/**
 * Who may reach what, decided in one `onRequest` hook on the route fastify matched — never on
 * the raw URL: fastify routes on the decoded path, so a raw `/%75i/api/state` is `/ui/api/state`
 * to the router and must be to the guard too. Health is open; `/metrics` and the route page may
 * be opened by config; everything else needs the master key or a virtual key (which also limits
 * the models). A request that matches no route is held to the API's rule: a key first, then 404.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Lifecycle } from './lifecycle.js';
import { openAIError } from './openai-errors.js';
import type { ProxyRuntime } from './runtime.js';
import { sameSecret } from './secrets.js';
import { sendLogin } from './ui/assets.js';
import type { UiSessions } from './ui/session.js';

/** Paths any caller may reach, key or not. */
export const OPEN_PATHS: ReadonlySet<string> = new Set([
  '/health',
  '/health/liveliness',
  '/health/readiness',
]);

/** Route-page routes anyone may reach: the login form checks the key itself. */
const UI_LOGIN = '/ui/login';

/** The key a request presents: `Authorization: <scheme> <key>` (scheme case-insensitive, RFC 7235) or `x-api-key`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
    if (match !== null) return match[1];
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined;
}

/** Route-page requests that change something: a browser's must come from the page's own origin. */
function crossOrigin(request: FastifyRequest): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return false;
  const origin = request.headers.origin;
  // No Origin: not a browser's cross-site request (SameSite=Strict keeps the cookie home anyway).
  if (origin === undefined || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

/**
 * Refuses the request while draining or without a valid key; undefined lets it through. A
 * route-page request with a session cookie is decided once the session store answers (a promise).
 */
export function admit(
  request: FastifyRequest,
  reply: FastifyReply,
  runtime: ProxyRuntime,
  lifecycle: Lifecycle,
  sessions: UiSessions,
): FastifyReply | undefined | Promise<FastifyReply | undefined> {
  const url = request.routeOptions.url ?? '';
  if (lifecycle.draining && !OPEN_PATHS.has(url)) {
    return reply
      .code(503)
      .header('connection', 'close')
      .send(openAIError(503, 'semroute is shutting down', 'shutting_down'));
  }
  const { config, keys } = runtime.serving;
  const { master_key, metrics_open, ui_open } = config.general;
  if (master_key === undefined || OPEN_PATHS.has(url)) return;
  const ui = url === '/ui' || url.startsWith('/ui/');
  if ((url === '/metrics' && metrics_open) || (ui && ui_open)) return;
  const token = presentedKey(request);
  if (ui) {
    if (crossOrigin(request)) {
      return reply
        .code(403)
        .send(
          openAIError(403, 'Route-page changes are only taken from the page itself (Origin)', 'cross_origin'),
        );
    }
    if (url === UI_LOGIN) return;
    if (token !== undefined && sameSecret(token, master_key)) return;
    const refuse = () =>
      request.method === 'GET' && url === '/ui'
        ? sendLogin(reply)
        : reply
            .code(401)
            .send(openAIError(401, 'The route page needs the master key: log in at /ui', 'invalid_api_key'));
    if (request.headers.cookie === undefined) return refuse();
    return sessions.valid(request, master_key).then((ok) => (ok ? undefined : refuse()));
  }
  // Anthropic clients read Anthropic's error shape.
  const refuse = (message: string) =>
    url.startsWith('/v1/messages')
      ? { type: 'error', error: { type: 'authentication_error', message } }
      : openAIError(401, message, 'invalid_api_key');
  if (token === undefined) {
    return reply.code(401).send(refuse('Missing API key: send Authorization: Bearer <key> (or x-api-key)'));
  }
  if (sameSecret(token, master_key)) {
    request.caller = 'master';
    return;
  }
  const key = keys.get(token);
  if (key === undefined) return reply.code(401).send(refuse('Invalid API key'));
  request.allowedModels = key.models;
  request.caller = key.id;
}
