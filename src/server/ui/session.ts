/**
 * The route page's sign-in sessions: a random token per login, kept server-side in the state
 * store (so a session works on every instance sharing Redis), expiring after 12 hours, ended by
 * logout, and bound to the master key it was opened with (a new key ends every session). The
 * cookie carries only the token: HttpOnly, SameSite=Strict, Path=/ui, and Secure when the page
 * was reached over TLS (directly or behind a proxy that says x-forwarded-proto: https).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { SessionStore } from '../../gateway/state/state-store.js';
import { sameSecret } from '../secrets.js';

export const COOKIE = 'semroute_ui';
/** How long a session lasts, ms. */
export const SESSION_MS = 12 * 60 * 60 * 1000;

const digest = (text: string) => createHash('sha256').update(text).digest('hex');
/** What a session remembers of its master key: enough to tell it changed, nothing to recover it. */
const keyPrint = (masterKey: string) => digest(`semroute-ui-key\u0000${masterKey}`).slice(0, 32);

export function cookieValue(request: FastifyRequest, name = COOKIE): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** Whether the request reached us over TLS, as far as we or the proxy in front can tell. */
export function overTls(request: FastifyRequest): boolean {
  const forwarded = request.headers['x-forwarded-proto'];
  return (
    request.protocol === 'https' ||
    (typeof forwarded === 'string' && forwarded.split(',')[0]!.trim() === 'https')
  );
}

export class UiSessions {
  constructor(private readonly store: SessionStore) {}

  private key(token: string): string {
    return `ui-session:${digest(token)}`;
  }

  /** Opens a session; returns the Set-Cookie value. */
  async open(request: FastifyRequest, masterKey: string): Promise<string> {
    const token = randomBytes(32).toString('hex');
    await this.store.setSession(this.key(token), keyPrint(masterKey), SESSION_MS);
    return `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=${SESSION_MS / 1000}${overTls(request) ? '; Secure' : ''}`;
  }

  /** Whether the request's cookie names a live session opened with this master key. */
  async valid(request: FastifyRequest, masterKey: string): Promise<boolean> {
    const token = cookieValue(request);
    if (token === undefined || !/^[0-9a-f]{64}$/.test(token)) return false;
    const print = await this.store.getSession(this.key(token));
    return print !== undefined && print !== '' && sameSecret(print, keyPrint(masterKey));
  }

  /** Ends the request's session; returns the Set-Cookie value that clears the cookie. */
  async close(request: FastifyRequest): Promise<string> {
    const token = cookieValue(request);
    if (token !== undefined && /^[0-9a-f]{64}$/.test(token)) await this.store.deleteSession(this.key(token));
    return `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=0${overTls(request) ? '; Secure' : ''}`;
  }
}

/**
 * Failed sign-ins per client address: ten a minute, then 429 until the minute is over. Kept in
 * memory (per instance), for at most 10,000 addresses.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly limit = 10,
    private readonly windowMs = 60_000,
  ) {}

  /** Seconds until this address may try again, or 0. */
  blockedFor(address: string): number {
    const entry = this.failures.get(address);
    if (entry === undefined || this.now() - entry.since >= this.windowMs) return 0;
    return entry.count >= this.limit ? Math.ceil((entry.since + this.windowMs - this.now()) / 1000) : 0;
  }

  failed(address: string): void {
    const now = this.now();
    const entry = this.failures.get(address);
    if (entry === undefined || now - entry.since >= this.windowMs) {
      if (this.failures.size >= 10_000) this.failures.clear();
      this.failures.set(address, { count: 1, since: now });
    } else entry.count++;
  }
}
