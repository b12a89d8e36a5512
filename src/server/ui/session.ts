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
 * Failed key checks — sign-ins on the route page and every wrong key presented to the API —
 * per client address: ten a minute, then 429 until the minute is over; and for all addresses
 * together a budget (1,000 a minute), past which no key but a virtual key's is even compared,
 * so guesses spread over many addresses are slowed too. Entries expire one by one, and at most 10,000
 * addresses are kept: past that the one that failed least recently goes.
 * In memory, per instance.
 */
export class LoginThrottle {
  /** Per address, the least recently failed first (each failure moves its address to the end). */
  private readonly failures = new Map<string, { count: number; since: number }>();
  private global = { count: 0, since: 0 };

  constructor(
    private readonly now: () => number = Date.now,
    private readonly limit = 10,
    private readonly windowMs = 60_000,
    private readonly globalLimit = 1_000,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Seconds until this address may try again, or 0. */
  blockedFor(address: string): number {
    const entry = this.failures.get(address);
    if (entry === undefined || this.now() - entry.since >= this.windowMs) return 0;
    return entry.count >= this.limit ? Math.ceil((entry.since + this.windowMs - this.now()) / 1000) : 0;
  }

  /** Seconds until the budget of failures over all addresses has room again, or 0. */
  globallyBlockedFor(): number {
    const { count, since } = this.global;
    if (this.now() - since >= this.windowMs || count < this.globalLimit) return 0;
    return Math.ceil((since + this.windowMs - this.now()) / 1000);
  }

  failed(address: string): void {
    const now = this.now();
    if (now - this.global.since >= this.windowMs) this.global = { count: 0, since: now };
    this.global.count++;
    // Expired windows leave from the front, one at a time: no address's count is wiped early.
    for (const [old, e] of this.failures) {
      if (now - e.since < this.windowMs) break;
      this.failures.delete(old);
    }
    const entry = this.failures.get(address);
    this.failures.delete(address);
    if (entry !== undefined && now - entry.since < this.windowMs) {
      // Moved to the end: an address still guessing is the last to be dropped at the cap.
      entry.count++;
      this.failures.set(address, entry);
      return;
    }
    if (this.failures.size >= this.maxAddresses) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(address, { count: 1, since: now });
  }

  /** Addresses tracked (for tests and /metrics). */
  get size(): number {
    return this.failures.size;
  }
}
