/** Keys: compared in constant time, and removed from any text that leaves the proxy. */
import { timingSafeEqual } from 'node:crypto';

/** Compares a presented key with a configured one without leaking, through timing, how much matched. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Replaces every known secret in a text. Upstream error messages can quote the key they were
 * sent (OpenAI's "Incorrect API key provided: sk-…"); they reach clients and logs only through this.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out;
}
