import { describe, expect, it } from 'vitest';
import { ALL_ROUTES_BELOW, candidateRoutes, LEXICAL_CANDIDATES } from '../../src/semantic/scoring.js';

const hits = (labels: number[]) => ({ labels, scores: labels.map((_, i) => 0.9 - i * 0.01) });

describe('candidateRoutes: the routes a large router scores', () => {
  it('is every route below the cut-off', () => {
    expect(
      candidateRoutes(hits([0]), (l) => l, new Float64Array(ALL_ROUTES_BELOW - 1), ALL_ROUTES_BELOW - 1),
    ).toBe(undefined);
  });

  it('takes the routes of retrieved utterances, the best lexical ones above 0, and the extra ones, sorted', () => {
    const routeCount = 200;
    const lexical = new Float64Array(routeCount);
    // Twelve routes share words with the query: only the best LEXICAL_CANDIDATES are taken.
    for (let i = 0; i < 12; i++) lexical[100 + i] = 0.1 + i * 0.01;
    const routeOf = (label: number) => Math.floor(label / 10);
    const got = [...candidateRoutes(hits([31, 35, 72, 5]), routeOf, lexical, routeCount, [199])!];
    const lexicalBest = Array.from({ length: LEXICAL_CANDIDATES }, (_, i) => 111 - i).sort((a, b) => a - b);
    expect(got).toEqual([0, 3, 7, ...lexicalBest, 199]);
  });

  it('takes no lexical route when the query shares no word (a vector without text)', () => {
    const got = candidateRoutes(hits([1]), (l) => l, new Float64Array(100), 100);
    expect([...got!]).toEqual([1]);
  });
});
