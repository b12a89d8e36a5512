/**
 * OAuth access tokens for Google Cloud APIs, as Google documents the two grants a key file
 * holds: a service account signs a JWT (RS256; `iss` its email, `scope` cloud-platform, `aud`
 * the token URI, an hour's life) and exchanges it (`urn:ietf:params:oauth:grant-type:jwt-bearer`);
 * a user's credentials trade their refresh token. A token is kept until five minutes before it
 * expires; callers waiting at once share one fetch; a token an API refused is dropped
 * (`invalidate`) so that the next caller fetches a new one.
 */
import { createSign } from 'node:crypto';
import { type Dispatcher, request } from 'undici';
import type { GoogleCredentials } from '../../config/gcp-credentials.js';
import { classifyUpstream, UpstreamError } from '../../errors.js';

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** How long before its expiry a token is replaced. */
const EARLY_MS = 5 * 60_000;
const FETCH_TIMEOUT_MS = 10_000;

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** The signed assertion a service account exchanges for a token. */
export function serviceAccountAssertion(
  credentials: Extract<GoogleCredentials, { type: 'service_account' }>,
  nowSeconds: number,
): string {
  const header = base64url(
    JSON.stringify({
      alg: 'RS256',
      typ: 'JWT',
      ...(credentials.privateKeyId ? { kid: credentials.privateKeyId } : {}),
    }),
  );
  const claims = base64url(
    JSON.stringify({
      iss: credentials.clientEmail,
      scope: SCOPE,
      aud: credentials.tokenUri,
      iat: nowSeconds,
      exp: nowSeconds + 3600,
    }),
  );
  const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(credentials.privateKey);
  return `${header}.${claims}.${base64url(signature)}`;
}

export class GoogleTokenSource {
  private current: { token: string; refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;
  /** Tokens fetched, for tests and `semroute check`. */
  fetched = 0;

  constructor(
    private readonly credentials: GoogleCredentials,
    private readonly dispatcher: Dispatcher,
    private readonly now: () => number = Date.now,
  ) {}

  /** A live token: the kept one, or one fetched now (shared by everyone waiting). */
  token(): Promise<string> {
    if (this.current !== undefined && this.now() < this.current.refreshAt)
      return Promise.resolve(this.current.token);
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Drops a token an API refused, unless a newer one replaced it already. */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  private async fetch(): Promise<string> {
    const c = this.credentials;
    const form =
      c.type === 'service_account'
        ? new URLSearchParams({
            grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
            assertion: serviceAccountAssertion(c, Math.floor(this.now() / 1000)),
          })
        : new URLSearchParams({
            grant_type: 'refresh_token',
            client_id: c.clientId,
            client_secret: c.clientSecret,
            refresh_token: c.refreshToken,
          });
    const who = c.type === 'service_account' ? `service account ${c.clientEmail}` : 'the user credentials';
    let status: number;
    let text: string;
    try {
      const answer = await request(c.tokenUri, {
        method: 'POST',
        dispatcher: this.dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      status = answer.statusCode;
      text = await answer.body.text();
    } catch (error) {
      throw new UpstreamError(
        'APIConnectionError',
        `Google's token endpoint ${c.tokenUri} could not be reached for ${who}: ${(error as Error).message}`,
        undefined,
      );
    }
    let body: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } =
      {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // Not JSON: reported below with the status.
    }
    if (status >= 400 || typeof body.access_token !== 'string') {
      const why =
        [body.error, body.error_description].filter((v) => typeof v === 'string').join(': ') ||
        text.slice(0, 200);
      // A refused grant is the deployment's credentials, never the request: an auth failure.
      throw new UpstreamError(
        status >= 500 ? classifyUpstream(status, why) : 'AuthenticationError',
        `Google refused a token for ${who} (HTTP ${status}): ${why}`,
        status >= 400 ? status : 502,
      );
    }
    this.fetched += 1;
    const lifeMs = (typeof body.expires_in === 'number' ? body.expires_in : 3600) * 1000;
    this.current = {
      token: body.access_token,
      refreshAt: this.now() + Math.max(lifeMs - EARLY_MS, lifeMs / 2),
    };
    return body.access_token;
  }
}
