/** What any scoring must do, run for `hybrid`, `dense` and `head` alike (test/semantic/scoring.test.ts). */
import { describe, expect, it } from 'vitest';
import type { Encoder } from '../../src/embeddings/encoder.js';
import { evaluate } from '../../src/semantic/evaluate.js';
import { SemanticRouter } from '../../src/semantic/semantic-router.js';

const ROUTES = [
  {
    name: 'coding',
    utterances: [
      'how to code a program in [language]',
      'fix this bug in my code',
      'write a function that sorts a list',
    ],
  },
  {
    name: 'weather',
    utterances: ['will it rain tomorrow', 'what is the weather like today', 'is it cold outside'],
  },
  {
    name: 'cooking',
    utterances: ['how do I bake bread', 'a recipe for pancakes', 'how long to boil an egg'],
  },
];

export function runScoringConformance(
  scoring: 'hybrid' | 'dense' | 'head',
  encoder: () => Promise<Encoder>,
): void {
  describe(`scoring conformance: ${scoring}`, () => {
    const build = async (extra: Record<string, unknown> = {}) =>
      SemanticRouter.fromConfig(
        { scoring, routes: ROUTES, ...extra },
        { encoder: await encoder(), cacheDir: false },
      );

    it('ranks clear prompts to their route, best candidate first, scores in [-1, 1]', async () => {
      const router = await build();
      for (const [text, route] of [
        ['how do I write a web server in Go', 'coding'],
        ['is it going to rain this weekend', 'weather'],
        ['what temperature do I bake a cake at', 'cooking'],
      ] as const) {
        const r = await router.route(text);
        expect(r.candidates[0]!.route, text).toBe(route);
        const scores = r.candidates.map((c) => c.score);
        // Candidates come best first by the scoring's order: the score, or the head's key.
        const order = r.candidates.map((c) => (scoring === 'head' ? c.components!.head! : c.score));
        expect([...order].sort((a, b) => b - a)).toEqual(order);
        for (const s of scores) expect(Math.abs(s)).toBeLessThanOrEqual(1 + 1e-6);
        expect(r.score).toBe(scores[0]);
      }
    });

    it('abstains below threshold and names the default route', async () => {
      const router = await build({ score_threshold: 0.99, default_route: 'fallback' });
      const r = await router.route('fix this bug in my code please');
      expect(r.name).toBeNull();
      expect(r.reason).toBe('below_threshold');
      expect(r.defaultRoute).toBe('fallback');
    });

    it('reports the three components of a hybrid score (and the head key with head), none for dense', async () => {
      const router = await build();
      const r = await router.route('is it cold outside today');
      for (const c of r.candidates) {
        if (scoring === 'dense') expect(c.components).toBeUndefined();
        else {
          expect(c.components).toBeDefined();
          const { knn, centroid, lexical, head } = c.components!;
          expect(c.score).toBeCloseTo(0.35 * knn + 0.35 * centroid + 0.3 * lexical, 9);
          expect(head === undefined).toBe(scoring !== 'head');
        }
      }
    });

    it('decides in evaluate() exactly as route() does', async () => {
      const router = await build();
      const rows = [
        { text: 'write code that reverses a list', label: 'coding' },
        { text: 'how warm will it be tomorrow', label: 'weather' },
        { text: 'who painted the mona lisa', label: null },
      ];
      const metrics = await evaluate(router, rows);
      let right = 0;
      for (const row of rows) if ((await router.route(row.text)).name === row.label) right++;
      expect(metrics.accuracy).toBeCloseTo(right / rows.length, 9);
    });
  });
}
