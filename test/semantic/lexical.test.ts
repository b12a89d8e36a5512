/** The lexical side of the hybrid score: features, idf, route vectors, and their upkeep. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { features, LexicalIndex } from '../../src/semantic/lexical.js';
import { SemanticRouter } from '../../src/semantic/semantic-router.js';
import { CountingEncoder, tempDir, useLite } from '../helpers/encoder.js';

describe('lexical features', () => {
  it('lowercases words, pairs neighbours, and cuts 3–5 character grams inside each padded word', () => {
    const f = features('Fix the BUG');
    expect(f.get('w:fix')).toBe(1);
    expect(f.get('w:bug')).toBe(1);
    expect(f.get('b:fix the')).toBe(1);
    expect(f.get('b:the bug')).toBe(1);
    expect(f.has('b:fix bug')).toBe(false);
    // "<fix>" gives <fi, fix, ix> (3), <fix, fix> (4), <fix> (5).
    for (const g of ['c:<fi', 'c:fix', 'c:ix>', 'c:<fix', 'c:fix>', 'c:<fix>'])
      expect(f.has(g), g).toBe(true);
    expect([...f.keys()].filter((k) => k.startsWith('c:') && k.includes('bug')).length).toBeGreaterThan(0);
    // Punctuation splits words; counts add up.
    expect(features('go, go GO!').get('w:go')).toBe(3);
    // Letters of any script are words; emoji and symbols are not.
    expect(features('今天 天气').has('w:今天')).toBe(true);
    expect(features('🙂 ++').size).toBe(0);
    // Character n-grams count characters, also outside the BMP (two code units each).
    const wide = [...features('𠀀𠀁').keys()].filter((k) => k.startsWith('c:'));
    expect(wide.sort()).toEqual(['c:<𠀀𠀁', 'c:<𠀀𠀁>', 'c:𠀀𠀁>'].sort());
    expect([...features('abc').keys()].filter((k) => k.startsWith('c:')).sort()).toEqual(
      ['c:<ab', 'c:abc', 'c:bc>', 'c:<abc', 'c:abc>', 'c:<abc>'].sort(),
    );
  });
});

describe('LexicalIndex', () => {
  const docs = [
    { route: 0, text: 'fix this bug in my code' },
    { route: 0, text: 'write a python function' },
    { route: 1, text: 'what is the weather today' },
    { route: 1, text: 'will it rain today' },
  ];

  it('gives smoothed idf: a feature in every utterance weighs least, an unseen one most', () => {
    const data = LexicalIndex.build(docs, 2).toData();
    const idf = (f: string) => data.idf[data.features.indexOf(f)]!;
    // df = 2 of N = 4: ln(5/3) + 1; df = 1: ln(5/2) + 1.
    expect(idf('w:today')).toBeCloseTo(Math.log(5 / 3) + 1, 6);
    expect(idf('w:weather')).toBeCloseTo(Math.log(5 / 2) + 1, 6);
    expect(data.unseenIdf).toBeCloseTo(Math.log(5) + 1, 6);
  });

  it('scores each route by cosine: its own words score it highest, shared words both, unknown words neither', () => {
    const index = LexicalIndex.build(docs, 2);
    const weather = index.score('weather today');
    expect(weather[1]).toBeGreaterThan(0.3);
    expect(weather[0]).toBe(0);
    const code = index.score('python code');
    expect(code[0]).toBeGreaterThan(code[1]!);
    expect(Array.from(index.score('zyxw qwvv'))).toEqual([0, 0]);
    // Unknown words in the query lower the match: the query vector is longer.
    expect(index.score('weather today zyxw qwvv plok')[1]!).toBeLessThan(weather[1]!);
    for (const s of [...weather, ...code]) expect(s).toBeLessThanOrEqual(1 + 1e-6);
  });

  it('round-trips through its saved typed arrays', () => {
    const index = LexicalIndex.build(docs, 2);
    const again = LexicalIndex.fromData(structuredClone(index.toData()));
    expect(Array.from(again.score('rain in python'))).toEqual(Array.from(index.score('rain in python')));
  });

  it("after add, remove and update, a router's lexical and centroid scores equal a fresh build's", async () => {
    const encoder = await useLite();
    const options = { encoder, cacheDir: false as const };
    const router = await SemanticRouter.fromConfig(
      {
        routes: [
          { name: 'code', utterances: ['fix this bug in my code'] },
          { name: 'weather', utterances: ['will it rain today'] },
        ],
      },
      options,
    );
    await router.addRoute({ name: 'food', utterances: ['how do I bake bread', 'a recipe for pancakes'] });
    await router.removeRoute('code');
    await router.updateRoute('weather', { utterances: ['will it rain today', 'is it sunny outside'] });
    const fresh = await SemanticRouter.fromConfig(router.routerConfig, options);
    for (const text of ['bake some bread', 'is it going to rain', 'unrelated words entirely']) {
      const [v] = await encoder.embed([text]);
      const a = router.probe(v!, text);
      const b = fresh.probe(v!, text);
      expect(Array.from(a.lexical!)).toEqual(Array.from(b.lexical!));
      for (let r = 0; r < a.centroid!.length; r++) expect(a.centroid![r]).toBeCloseTo(b.centroid![r]!, 6);
      expect((await router.route(text)).name).toBe((await fresh.route(text)).name);
    }
  });
});

describe('hybrid tables in the compiled artefact', () => {
  it('saves the centroids and the lexical index; a restart reads them back and scores the same', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const encoder = new CountingEncoder(await useLite());
      const config = {
        routes: [
          { name: 'code', utterances: ['fix this bug in my code', 'write a python function'] },
          { name: 'weather', utterances: ['will it rain today', 'is it sunny outside'] },
        ],
      };
      const first = await SemanticRouter.fromConfig(config, { encoder, cacheDir: dir });
      const files = await readdir(path.join(dir, first.key));
      expect(files).toEqual(
        expect.arrayContaining(['centroids.bin', 'lexical.bin', 'manifest.json', 'vectors.bin']),
      );
      encoder.texts = 0;
      const second = await SemanticRouter.fromConfig(config, { encoder, cacheDir: dir });
      expect(encoder.texts).toBe(0);
      const [v] = await encoder.embed(['will it be sunny today']);
      const a = first.probe(v!, 'will it be sunny today');
      const b = second.probe(v!, 'will it be sunny today');
      expect(Array.from(b.lexical!)).toEqual(Array.from(a.lexical!));
      expect(Array.from(b.centroid!)).toEqual(Array.from(a.centroid!));
      expect(second.inspect().lexicalRouteNorms).toEqual(first.inspect().lexicalRouteNorms);
    } finally {
      await cleanup();
    }
  });
});

describe('lexical scoring of queries', () => {
  /** The query side written plainly from features(): what score() must equal, bit for bit. */
  function reference(index: LexicalIndex, text: string): Float64Array {
    const data = index.toData();
    const ids = new Map(data.features.map((f, i) => [f, i]));
    const query = new Map<number, number>();
    for (const [f, n] of features(text)) {
      const id = ids.get(f);
      query.set(
        id ?? -1 - query.size,
        (1 + Math.log(n)) * (id === undefined ? data.unseenIdf : data.idf[id]!),
      );
    }
    let sum = 0;
    for (const v of query.values()) sum += v * v;
    const inv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    const out = new Float64Array(data.routeCount);
    for (const [id, q] of query) {
      if (id < 0) continue;
      for (let p = data.offsets[id]!; p < data.offsets[id + 1]!; p++)
        out[data.routes[p]!]! += q * inv * data.weights[p]!;
    }
    return out;
  }

  it('scores a query exactly as its features say, whether its words were seen before or not', () => {
    const index = LexicalIndex.build(
      [
        { route: 0, text: 'fix the bug in my code' },
        { route: 0, text: 'how do I reverse a list in python' },
        { route: 1, text: 'will it rain tomorrow in paris' },
        { route: 2, text: 'play some jazz music' },
      ],
      3,
    );
    const queries = [
      'fix this bug',
      'rain rain rain in Paris, tomorrow?',
      'zzyzx qwerty in my code',
      'play the bug music music music',
      '今天 天气 fix',
      'fix this bug',
      'unseen words only here',
    ];
    // Twice over: the second pass reads every word from the cache.
    for (let pass = 0; pass < 2; pass++)
      for (const q of queries)
        expect([...index.score(q)], `${q} (pass ${pass})`).toEqual([...reference(index, q)]);
  });

  // Words drawn with a skew, so some are in most routes (dense rows) and some in a few (postings).
  const vocabulary = Array.from({ length: 50 }, (_, i) => `w${(i * 7919) % 1000}${'abcdefgh'[i % 8]}`);
  const word = fc.integer({ min: 0, max: 49 * 49 }).map((n) => vocabulary[Math.floor(Math.sqrt(n))]!);
  const sentence = fc.array(word, { minLength: 1, maxLength: 8 }).map((w) => w.join(' '));

  it('scores a large router through dense rows, in WebAssembly and in JavaScript, to the same bits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 64, max: 130 }),
        fc.array(sentence, { minLength: 140, maxLength: 300 }),
        fc.array(fc.oneof(sentence, fc.constant('zzyzx only unseen words')), { minLength: 1, maxLength: 5 }),
        (routeCount, texts, queries) => {
          const built = LexicalIndex.build(
            texts.map((text, i) => ({ route: i % routeCount, text })),
            routeCount,
          );
          const wasm = LexicalIndex.fromData(built.toData());
          const js = LexicalIndex.fromData(built.toData(), { wasm: false });
          for (const q of queries) {
            const want = [...reference(built, q)];
            expect([...wasm.score(q)], q).toEqual(want);
            expect([...js.score(q)], q).toEqual(want);
          }
          // Node 20 has WebAssembly SIMD on every CPU it runs on: the fast path is the one tested.
          expect(wasm.rowKind).toBe('wasm');
          expect(js.rowKind).toBe('js');
        },
      ),
      { numRuns: 60, seed: 34 },
    );
  });

  it('keeps postings only below 64 routes, and one sums buffer serves query after query', () => {
    const small = LexicalIndex.build([{ route: 0, text: 'fix the bug' }], 63);
    expect(small.rowKind).toBe(undefined);
    const docs = Array.from({ length: 70 }, (_, r) => ({ route: r, text: `common words topic${r}` }));
    const index = LexicalIndex.build(docs, 70);
    const first = index.score('topic3 common');
    const second = index.score('topic9 words');
    // The answer is a copy: the next query does not change the last one's scores.
    expect(first[3]).toBeGreaterThan(first[9]!);
    expect(second[9]).toBeGreaterThan(second[3]!);
    expect([...first]).toEqual([...reference(index, 'topic3 common')]);
  });
});

describe('LexicalIndex.build', () => {
  /** The index built the plain way, a Map per utterance and per route: what build() must equal. */
  function mapBuild(documents: ReadonlyArray<{ route: number; text: string }>, routeCount: number) {
    const ids = new Map<string, number>();
    const counted = documents.map((d) => {
      const tf = new Map<number, number>();
      for (const [f, n] of features(d.text)) {
        if (!ids.has(f)) ids.set(f, ids.size);
        tf.set(ids.get(f)!, n);
      }
      return { route: d.route, tf };
    });
    const normalise = (v: Map<number, number>) => {
      let sum = 0;
      for (const x of v.values()) sum += x * x;
      if (sum > 0) for (const [k, x] of v) v.set(k, x * (1 / Math.sqrt(sum)));
      return v;
    };
    const df = new Float64Array(ids.size);
    for (const { tf } of counted) for (const id of tf.keys()) df[id]! += 1;
    const n = documents.length;
    const idf = Float32Array.from(df, (d) => Math.log((1 + n) / (1 + d)) + 1);
    const routes = Array.from({ length: routeCount }, () => new Map<number, number>());
    for (const { route, tf } of counted) {
      const vector = new Map<number, number>();
      for (const [id, count] of tf) vector.set(id, (1 + Math.log(count)) * idf[id]!);
      const target = routes[route];
      if (target === undefined) continue;
      for (const [id, w] of normalise(vector)) target.set(id, (target.get(id) ?? 0) + w);
    }
    const routeNorms = Float32Array.from(routes, (route) => {
      let sum = 0;
      for (const w of route.values()) sum += w * w;
      return Math.sqrt(sum);
    });
    const postings = Array.from({ length: ids.size }, () => [] as Array<[number, number]>);
    routes.forEach((route, r) => {
      for (const [id, w] of normalise(route)) postings[id]!.push([r, w]);
    });
    return {
      features: [...ids.keys()],
      idf: [...idf],
      offsets: [0, ...postings.map((_, f) => postings.slice(0, f + 1).reduce((a, p) => a + p.length, 0))],
      routes: postings.flatMap((p) => p.map(([r]) => r)),
      weights: postings.flatMap((p) => p.map(([, w]) => Math.fround(w))),
      routeNorms: [...routeNorms],
      unseenIdf: Math.log(1 + n) + 1,
    };
  }

  it('builds, from flat arrays, the same index bit for bit as a Map per utterance and per route', () => {
    const words = ['fix', 'the', 'bug', 'rain', 'paris', 'code', 'jazz', 'a', 'python', '今天', 'über'];
    const text = fc.array(fc.constantFrom(...words), { minLength: 0, maxLength: 9 }).map((w) => w.join(' '));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        // Many utterances per route, so that sums in another order would show in the last bits.
        fc.array(fc.tuple(fc.integer({ min: -1, max: 9 }), text), { minLength: 1, maxLength: 200 }),
        (routeCount, docs) => {
          const documents = docs.map(([route, t]) => ({ route, text: t }));
          const data = LexicalIndex.build(documents, routeCount).toData();
          const want = mapBuild(documents, routeCount);
          expect({
            features: data.features,
            idf: [...data.idf],
            offsets: [...data.offsets],
            routes: [...data.routes],
            weights: [...data.weights],
            routeNorms: [...data.routeNorms],
            unseenIdf: data.unseenIdf,
          }).toEqual(want);
        },
      ),
      { numRuns: 150, seed: 34 },
    );
  });
});
