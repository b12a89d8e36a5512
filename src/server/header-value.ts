/**
 * A value for an HTTP header from any text: route and model names come from router.json and
 * config files and may hold any character (`math数学`). Latin-1 text without controls goes as it
 * is; anything else is percent-encoded (UTF-8, as `encodeURIComponent`), so the header is always
 * writable and a client decodes it with `decodeURIComponent`. README says so.
 */
const PLAIN = /^[\x20-\x7e]*$/;

export function headerValue(text: string): string {
  if (PLAIN.test(text) && !text.includes('%')) return text;
  return encodeURIComponent(text);
}
