import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGlob } from '../../src/gateway/glob.js';

/** The reference: a greedy regular expression, as LiteLLM (Python re) and the old code matched. */
function reference(pattern: string, name: string): string[] | undefined {
  const source = pattern
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('(.*)');
  const m = new RegExp(`^${source}$`, 's').exec(name);
  return m === null ? undefined : m.slice(1);
}

describe('compileGlob', () => {
  it.each([
    ['openai/*', 'openai/gpt-4o', ['gpt-4o']],
    ['openai/*', 'anthropic/claude', undefined],
    ['*', '', ['']],
    ['a*b*c', 'abcbc', ['bc', '']],
    ['*a*', 'banana', ['banan', '']],
    ['gpt-4o', 'gpt-4o', []],
    ['gpt-4o', 'gpt-4o-mini', undefined],
    ['**', 'xy', ['xy', '']],
    ['a*a', 'a', undefined],
  ])('%s against %s', (pattern, name, expected) => {
    expect(compileGlob(pattern).match(name)).toEqual(expected);
  });

  it('captures what a greedy regular expression captures, on any pattern and name', () => {
    const alphabet = fc.constantFrom('a', 'b', '*', '.', '/');
    fc.assert(
      fc.property(
        fc.string({ unit: alphabet, maxLength: 8 }),
        fc.string({ unit: alphabet, maxLength: 12 }),
        (p, n) => {
          expect(compileGlob(p).match(n)).toEqual(reference(p, n));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('matches the pattern that froze the event loop as a RegExp, in linear work', () => {
    // 17 stars against a 5,000-character name with no Z: a backtracking matcher explores
    // combinations of star positions; this one places each literal piece once.
    const glob = compileGlob(`${'*'.repeat(17)}Z`);
    const name = 'a'.repeat(5_000);
    expect(glob.match(name)).toBeUndefined();
    const many = compileGlob(`${'*a'.repeat(60)}Z`);
    expect(many.match(`${'a'.repeat(5_000)}`)).toBeUndefined();
    expect(many.match(`${'a'.repeat(5_000)}Z`)).toHaveLength(60);
  });
});
