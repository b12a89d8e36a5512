/**
 * AWS Signature Version 4, written from AWS's published algorithm ("Create a signed AWS API
 * request"): a canonical request, a string to sign over its hash, a key derived from the secret
 * by four HMACs (date, region, service, "aws4_request"), and the Authorization header. Each step
 * is exported so that test/gateway/sigv4.test.ts checks it against AWS's published test suite.
 * Paths are encoded as every AWS service but S3 wants: each segment of the path as sent is
 * URI-encoded again (a Bedrock model id's `:` travels as `%3A` and is signed as `%253A`).
 */
import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

export interface SignableRequest {
  readonly method: string;
  /** The path as it goes on the wire (already percent-encoded where it must be), no query. */
  readonly path: string;
  /** The query string as sent, without `?` ('' for none). */
  readonly query: string;
  /** Every header the request carries (host included); names in any case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array;
}

export interface Scope {
  readonly region: string;
  readonly service: string;
  /** `YYYYMMDDTHHMMSSZ`. */
  readonly amzDate: string;
}

const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** AWS's URI encoding: every byte but A–Z a–z 0–9 - _ . ~ as %XX, upper-case hex. */
export function uriEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `YYYYMMDDTHHMMSSZ` of a time. */
export function amzDate(time: Date): string {
  return time
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** RFC 3986 dot-segment removal, as AWS normalises paths for every service but S3. */
function normalisePath(path: string): string {
  const out: string[] = [];
  const segments = path.split('/');
  for (const s of segments.slice(1)) {
    if (s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  // "/a/b/.." keeps its trailing slash, "/a//b" its empty segment.
  const last = segments.at(-1);
  if ((last === '.' || last === '..') && out.at(-1) !== '') out.push('');
  return `/${out.join('/')}`;
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs = query.split('&').map((part) => {
    const eq = part.indexOf('=');
    const [k, v] = eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
    const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, '%20'));
    return [uriEncode(decode(k)), uriEncode(decode(v))] as const;
  });
  pairs.sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Lower-cased names, values trimmed with inner runs of spaces collapsed, sorted by name. */
function canonicalHeaders(headers: Readonly<Record<string, string>>): { block: string; signed: string } {
  const byName = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    byName.set(key, [...(byName.get(key) ?? []), value.trim().replace(/\s+/g, ' ')]);
  }
  const names = [...byName.keys()].sort();
  return {
    block: names.map((n) => `${n}:${byName.get(n)!.join(',')}\n`).join(''),
    signed: names.join(';'),
  };
}

/** Step 1: the canonical request, and the signed-headers list it names. */
export function canonicalRequest(request: SignableRequest): { text: string; signedHeaders: string } {
  const path = normalisePath(request.path)
    .split('/')
    .map((segment) => uriEncode(segment))
    .join('/');
  const { block, signed } = canonicalHeaders(request.headers);
  return {
    text: [
      request.method.toUpperCase(),
      path,
      canonicalQuery(request.query),
      block,
      signed,
      sha256Hex(request.body),
    ].join('\n'),
    signedHeaders: signed,
  };
}

/** `YYYYMMDD/region/service/aws4_request`. */
export const credentialScope = (scope: Scope) =>
  `${scope.amzDate.slice(0, 8)}/${scope.region}/${scope.service}/aws4_request`;

/** Step 2: the string to sign. */
export function stringToSign(canonical: string, scope: Scope): string {
  return ['AWS4-HMAC-SHA256', scope.amzDate, credentialScope(scope), sha256Hex(canonical)].join('\n');
}

/** Step 3: the signing key, HMAC-SHA256 chained over date, region, service and "aws4_request". */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/**
 * The headers that sign a request: `x-amz-date`, `x-amz-security-token` with temporary
 * credentials (signed too), and `authorization`. `request.headers` must hold every other header
 * sent, `host` included.
 */
export function signRequest(
  request: SignableRequest,
  credentials: AwsCredentials,
  region: string,
  service: string,
  time: Date,
): Record<string, string> {
  const date = amzDate(time);
  const added: Record<string, string> = { 'x-amz-date': date };
  if (credentials.sessionToken !== undefined) added['x-amz-security-token'] = credentials.sessionToken;
  const signed = { ...request, headers: { ...request.headers, ...added } };
  const scope = { region, service, amzDate: date };
  const { text, signedHeaders } = canonicalRequest(signed);
  const signature = createHmac(
    'sha256',
    signingKey(credentials.secretAccessKey, date.slice(0, 8), region, service),
  )
    .update(stringToSign(text, scope), 'utf8')
    .digest('hex');
  return {
    ...added,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${credentialScope(scope)}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}
