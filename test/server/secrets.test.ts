/** Redaction: every form a key takes in an upstream's message, and key-shaped runs semroute does not know. */
import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../../src/server/secrets.js';

describe('redactSecrets', () => {
  const key = 'sk-proj-Abc123def456GHI789';
  it('removes a known key as written, in any case, and base64-encoded', () => {
    const base64 = Buffer.from(key).toString('base64');
    const base64url = Buffer.from(key).toString('base64url');
    const text = `a ${key} b ${key.toUpperCase()} c ${key.toLowerCase()} d ${base64} e ${base64url} f`;
    const out = redactSecrets(text, [key]);
    for (const form of [key, key.toUpperCase(), key.toLowerCase(), base64.replace(/=+$/, ''), base64url])
      expect(out).not.toContain(form);
    expect(out.match(/\[redacted\]/g)).toHaveLength(5);
    expect(out.startsWith('a [redacted] b [redacted] c [redacted] d [redacted]')).toBe(true);
  });

  it('removes key-shaped runs it was not told of, and keeps ordinary words', () => {
    const out = redactSecrets(
      'Incorrect API key provided: sk-othe************wxyz. AWS AKIAIOSFODNN7EXAMPLE, Bearer eyJhbGciOiJIUzI1NiJ9.abc; a task-manager at risk-free rates',
      [],
    );
    expect(out).toBe(
      'Incorrect API key provided: [redacted]. AWS [redacted], [redacted]; a task-manager at risk-free rates',
    );
  });

  it('a regular-expression character in a key is taken literally', () => {
    expect(redactSecrets('x a.b*c+d y', ['a.b*c+d'])).toBe('x [redacted] y');
    expect(redactSecrets('x aXbbc+d y', ['a.b*c+d'])).toBe('x aXbbc+d y');
  });
});
