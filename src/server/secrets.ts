/** Keys: compared in constant time, and removed from any text that leaves the proxy. */
import { timingSafeEqual } from 'node:crypto';

/** Compares a presented key with a configured one without leaking, through timing, how much matched. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Replaces every known secret in a text — as written, in any letter case, and base64-encoded
 * (an upstream may quote a Basic credential or a decoded token) — and any run that looks like an
 * API key (`sk-…`, `AKIA…`, a bearer token). Upstream error messages can quote the key they were
 * sent (OpenAI's "Incorrect API key provided: sk-…"); they reach clients and logs only through this.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of forms(secret)) out = out.replace(new RegExp(literal(form), 'gi'), '[redacted]');
  }
  return out.replace(KEY_SHAPED, '[redacted]');
}

/** What a key looks like when a message quotes one semroute does not know (another deployment's, a masked one). */
const KEY_SHAPED =
  /\b(?:sk|pk|rk)-[A-Za-z0-9_*-]{8,}|\bAKIA[0-9A-Z]{16}\b|\bAIza[0-9A-Za-z_-]{20,}|\b[Bb]earer\s+[A-Za-z0-9._~+/=-]{8,}/g;

function forms(secret: string): string[] {
  const bytes = Buffer.from(secret);
  return [secret, bytes.toString('base64').replace(/=+$/, ''), bytes.toString('base64url')];
}

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
