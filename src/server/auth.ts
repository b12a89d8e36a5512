/**
 * Who may reach what, decided in one `onRequest` hook on the route fastify matched — never on
 * the raw URL: fastify routes on the decoded path, so a raw `/%75i/api/state` is `/ui/api/state`
 * to the router and must be to the guard too. Health is open; `/metrics` and the route page may
 * be opened by config; everything else needs the master key or a virtual key (which also limits
 * the models). A request that matches no route is held to the API's rule: a key first, then 404.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Lifecycle } from './lifecycle.js';
import { ErrorCode, SemrouteError } from '../errors.js';
import { errorAnswer } from './openai-errors.js';
import type { ProxyRuntime } from './runtime.js';
import { sameSecret } from './secrets.js';
import { sendLogin } from './ui/assets.js';
import type { LoginThrottle, UiSessions } from './ui/session.js';

/** Paths any caller may reach, key or not. */
export const OPEN_PATHS: ReadonlySet<string> = new Set([
  '/health',
  '/health/liveliness',
  '/health/readiness',
  // Browsers ask for it on their own: an empty answer, not a 401 in the console.
  '/favicon.ico',
]);

/** Paths that show every tenant's figures: the master key only (or opened by config, /metrics). */
export const MASTER_ONLY: ReadonlySet<string> = new Set(['/metrics', '/spend/keys', '/spend/models']);

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

/** Names a route page open to all (`ui_open`) answers to: loopback, and what the operator lists. */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

function allowedHost(host: string | undefined, listed: readonly string[]): boolean {
  if (host === undefined) return false;
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  return LOOPBACK_HOSTS.has(name) || listed.some((h) => h.toLowerCase() === name);
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
  throttle: LoginThrottle,
): FastifyReply | undefined | Promise<FastifyReply | undefined> {
  const url = request.routeOptions.url ?? '';
  const refuse = (code: ErrorCode, message: string) => {
    const { status, body, headers } = errorAnswer(url, new SemrouteError(code, message));
    return reply.code(status).headers(headers).send(body);
  };
  if (lifecycle.draining && !OPEN_PATHS.has(url))
    return refuse(ErrorCode.SHUTTING_DOWN, 'semroute is shutting down');
  const { config, keys } = runtime.serving;
  const { master_key, metrics_open, ui_open } = config.general;
  if (master_key === undefined || OPEN_PATHS.has(url)) return;
  const ui = url === '/ui' || url.startsWith('/ui/');
  if (ui && ui_open) {
    // Open to anyone who reaches it, so reached only by its own names (a page that rebinds its
    // DNS to this address sends its own Host) and changed only from its own origin.
    if (!allowedHost(request.headers.host, config.general.ui_allowed_hosts))
      return refuse(
        ErrorCode.CROSS_ORIGIN,
        'The route page answers only to its own host names (general_settings.ui_allowed_hosts)',
      );
    if (crossOrigin(request))
      return refuse(
        ErrorCode.CROSS_ORIGIN,
        'Route-page changes are only taken from the page itself (Origin)',
      );
    return;
  }
  if (url === '/metrics' && metrics_open) return;
  const token = presentedKey(request);
  // A virtual key is a map lookup and always passes; every other key presented is a comparison
  // against the master key, held to the throttle: per address, and for all addresses together.
  const known = token === undefined ? undefined : keys.get(token);
  if (token !== undefined && known === undefined) {
    const wait = Math.max(throttle.blockedFor(request.ip), throttle.globallyBlockedFor());
    if (wait > 0) {
      const error = new SemrouteError(ErrorCode.KEY_LIMITED, `Too many wrong keys: try again in ${wait} s`, {
        details: { retryAt: Date.now() + wait * 1000 },
      });
      const answer = errorAnswer(url, error);
      return reply.code(answer.status).headers(answer.headers).send(answer.body);
    }
  }
  const wrongKey = () => {
    throttle.failed(request.ip);
    return refuse(ErrorCode.AUTH_INVALID, 'Invalid API key');
  };
  if (ui) {
    if (crossOrigin(request))
      return refuse(
        ErrorCode.CROSS_ORIGIN,
        'Route-page changes are only taken from the page itself (Origin)',
      );
    if (url === UI_LOGIN) return;
    if (token !== undefined && sameSecret(token, master_key)) return;
    if (token !== undefined && known === undefined) throttle.failed(request.ip);
    // A browser without a session gets the form; a client that presented some other key is
    // refused (401) with the same form, so an API caller never mistakes it for the page.
    const login = () =>
      request.method === 'GET' && url === '/ui'
        ? token === undefined
          ? sendLogin(reply)
          : sendLogin(reply, 'That key is not the master key', 401)
        : refuse(ErrorCode.AUTH_INVALID, 'The route page needs the master key: log in at /ui');
    if (request.headers.cookie === undefined) return login();
    return sessions.valid(request, master_key).then((ok) => (ok ? undefined : login()));
  }
  if (token === undefined)
    return refuse(ErrorCode.AUTH_MISSING, 'Missing API key: send Authorization: Bearer <key> (or x-api-key)');
  if (sameSecret(token, master_key)) {
    request.caller = 'master';
    request.callerAlias = 'master';
    return;
  }
  const key = known;
  if (key === undefined) return wrongKey();
  request.allowedModels = key.models;
  request.caller = key.id;
  request.callerAlias = key.alias;
  request.key = key;
  // Every tenant's figures are the operator's, not another tenant's.
  if (MASTER_ONLY.has(url)) return refuse(ErrorCode.MASTER_KEY_REQUIRED, `${url} needs the master key`);
}
