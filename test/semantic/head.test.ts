import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS, validateRouterConfig } from '../../src/config/router-config.js';
import { artefactFiles } from '../../src/semantic/artefact.js';
import { HEAD_LEXICAL_WEIGHT, headScores, trainHead } from '../../src/semantic/head.js';
import { SemanticRouter } from '../../src/semantic/semantic-router.js';
import { CountingEncoder, tempDir, useLite } from '../helpers/encoder.js';

let cache: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  cache = await tempDir();
});
afterAll(() => cache.cleanup());

const ROUTES = [
  { name: 'flights', utterances: ['book me a flight to paris'], description: 'book flight' },
  { name: 'hotels', utterances: ['find a hotel room in rome'], description: 'book hotel' },
  { name: 'weather', utterances: ['will it rain tomorrow'], description: 'weather forecast' },
  { name: 'music', utterances: ['play some jazz'], description: 'play music' },
];

/** A unit vector along axis `axis` plus a little of `other`. */
function unit(d: number, axis: number, other = -1, mix = 0): Float32Array {
  const v = new Float32Array(d);
  v[axis] = 1;
  if (other >= 0) v[other] = mix;
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

describe('the trained head', () => {
  it('learns what the centroids get wrong: a route whose rows spread apart still wins its own rows', () => {
    // Route 0 has rows on axes 0 and 1, route 1 on axis 2 but one row close to axis 1. Centroid
    // cosine sends the axis-1 row of route 0 to route 1 (its centroid is nearer); the head fixes it.
    const d = 4;
    const rows = [
      { route: 0, vector: unit(d, 0) },
      { route: 0, vector: unit(d, 0) },
      { route: 0, vector: unit(d, 0) },
      { route: 0, vector: unit(d, 1, 2, 0.9) },
      { route: 1, vector: unit(d, 2) },
      { route: 1, vector: unit(d, 2, 1, 1.2) },
    ];
    const head = trainHead(rows, 2, d);
    const query = unit(d, 1, 2, 0.9);
    const zeros = [0, 0];
    const [a, b] = headScores(head, query, zeros);
    expect(a!).toBeGreaterThan(b!);
    // The initial head (centroids) would have ranked route 1 first for this row.
    const centroid = (route: number) => {
      const sum = new Float32Array(d);
      for (const r of rows) if (r.route === route) for (let k = 0; k < d; k++) sum[k]! += r.vector[k]!;
      const n = Math.hypot(...sum);
      return sum.reduce((s, x, k) => s + (x / n) * query[k]!, 0);
    };
    expect(centroid(1)).toBeGreaterThan(centroid(0));
  });

  it('adds the lexical cosine to the logit with its documented weight', () => {
    const head = trainHead(
      [
        { route: 0, vector: unit(3, 0) },
        { route: 1, vector: unit(3, 1) },
      ],
      2,
      3,
    );
    const q = unit(3, 2);
    const plain = headScores(head, q, [0, 0]);
    const worded = headScores(head, q, [0.5, 0]);
    expect(worded[0]! - plain[0]!).toBeCloseTo(HEAD_LEXICAL_WEIGHT * 0.5, 5);
    expect(worded[1]).toBe(plain[1]);
  });

  it('is deterministic: the same rows give the same weights bit for bit; one route trains', () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({
      route: i % 5,
      vector: unit(8, i % 8, (i * 3) % 8, 0.3),
    }));
    const a = trainHead(rows, 5, 8);
    const b = trainHead(rows, 5, 8);
    expect(Buffer.from(a.weights.buffer).equals(Buffer.from(b.weights.buffer))).toBe(true);
    expect(Buffer.from(a.bias.buffer).equals(Buffer.from(b.bias.buffer))).toBe(true);
    const single = trainHead([{ route: 0, vector: unit(3, 0) }], 1, 3);
    expect(Number.isFinite(single.weights[0])).toBe(true);
  });
});

describe('scoring: head in a router', () => {
  it('is accepted with the hybrid default threshold, and refused with its name listed otherwise', () => {
    const { config } = validateRouterConfig({ routes: ROUTES, scoring: 'head' });
    expect(config.scoring).toBe('head');
    expect(config.score_threshold).toBe(DEFAULT_THRESHOLDS.hybrid);
    expect(() => validateRouterConfig({ routes: ROUTES, scoring: 'softmax' }, 'r.json')).toThrowError(
      expect.objectContaining({ path: 'scoring', message: expect.stringContaining('"head"') }),
    );
  });

  it('gates with the hybrid score: it changes the order of candidates, never the scores', async () => {
    const encoder = await useLite();
    const hybrid = await SemanticRouter.fromConfig({ routes: ROUTES }, { encoder, cacheDir: false });
    const head = await SemanticRouter.fromConfig(
      { routes: ROUTES, scoring: 'head' },
      { encoder, cacheDir: false },
    );
    for (const text of ['a plane ticket to berlin please', 'is it sunny in madrid', 'put on a song']) {
      const [h, t] = [await hybrid.route(text), await head.route(text)];
      const byRoute = new Map(h.candidates.map((c) => [c.route, c.score]));
      for (const c of t.candidates) expect(c.score).toBeCloseTo(byRoute.get(c.route)!, 9);
      expect(t.name === null || t.score >= t.threshold).toBe(true);
    }
    expect((await head.route('a plane ticket to berlin please')).candidates[0]!.route).toBe('flights');
  });

  it('is saved in the artefact: a restart embeds nothing and decides the same, a stale head file is retrained, a mutation retrains', async () => {
    const counting = new CountingEncoder(await useLite());
    const config = { routes: ROUTES, scoring: 'head' };
    const first = await SemanticRouter.fromConfig(config, { encoder: counting, cacheDir: cache.dir });
    const file = artefactFiles(cache.dir, first.key).head;
    const saved = await readFile(file);
    const before = await first.route('find me a room for two nights');
    counting.texts = 0;
    const second = await SemanticRouter.fromConfig(config, { encoder: counting, cacheDir: cache.dir });
    expect(counting.texts).toBe(0);
    const after = await second.route('find me a room for two nights');
    expect(counting.texts).toBe(1);
    expect(after.candidates).toEqual(before.candidates);
    expect((await readFile(file)).equals(saved)).toBe(true);

    // A head file of another version or shape is not used: it is retrained and rewritten.
    await import('node:fs/promises').then((fs) => fs.writeFile(file, '{"version":0}\n'));
    const third = await SemanticRouter.fromConfig(config, { encoder: counting, cacheDir: cache.dir });
    expect((await third.route('find me a room for two nights')).candidates).toEqual(before.candidates);
    expect((await readFile(file)).equals(saved)).toBe(true);

    await second.addRoute({ name: 'taxi', utterances: ['call me a cab'], description: 'order a taxi' });
    const moved = await second.route('i need a cab to the airport');
    expect(moved.name).toBe('taxi');
    expect(moved.candidates[0]!.components!.head).toBeDefined();
    expect((await stat(artefactFiles(cache.dir, second.key).head)).size).toBe(
      (await readFile(artefactFiles(cache.dir, second.key).head)).indexOf(10) + 1 + (5 * 512 + 5) * 4,
    );
    expect(path.basename(file)).toBe('head.bin');
  });
});
