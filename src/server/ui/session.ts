/**
 * The route page's sign-in: with a master key, the browser logs in once with a form; the cookie it
 * gets is an HMAC of the master key (HttpOnly, SameSite=Strict, Path=/ui), so it dies when the key
 * changes and never carries the key itself.
 */
import { createHmac } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { sameSecret } from '../secrets.js';

export const COOKIE = 'semroute_ui';

export function sessionToken(masterKey: string): string {
  return createHmac('sha256', masterKey).update('semroute-ui-session-v1').digest('hex');
}

function cookieValue(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** Whether a request to /ui carries the route page's session cookie for this master key. */
export function hasUiSession(request: FastifyRequest, masterKey: string): boolean {
  const value = cookieValue(request, COOKIE);
  return value !== undefined && sameSecret(value, sessionToken(masterKey));
}
