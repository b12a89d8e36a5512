import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, SemrouteError } from '../../src/errors.js';
import { SemanticRouter } from '../../src/semantic/semantic-router.js';
import { CountingEncoder, tempDir, useLite } from '../helpers/encoder.js';

const ASSISTANT = path.resolve('routes/assistant.json');
let cache: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  cache = await tempDir();
});
afterAll(() => cache.cleanup());

async function assistant(options: { index?: 'hnsw' | 'exact' } = {}) {
  return SemanticRouter.fromFile(ASSISTANT, { encoder: await useLite(), cacheDir: false, ...options });
}

describe('SemanticRouter.route', () => {
  it('routes the README example to coding and reports the template that matched', async () => {
    const router = await assistant();
    const result = await router.route('how do I reverse a list in python');
    expect(result.name).toBe('coding');
    expect(result.reason).toBe('matched');
    expect(result.score).toBeGreaterThan(result.threshold);
    expect(result.candidates[0]!.route).toBe('coding');
    expect(result.candidates.length).toBeLessThanOrEqual(5);
    expect(result.matched?.utterance).toBeTruthy();
    expect(result.timing.totalMs).toBeGreaterThan(0);
  });

  it.each([
    ['translate this email into German please', 'translation'],
    ['what is 12 times 9', 'math'],
    ['give me the key points of this long report', 'summarization'],
    ['I was charged twice for my subscription', 'support'],
    ['hey, good morning!', 'chitchat'],
  ])('routes %j to %s', async (prompt, expected) => {
    const router = await assistant();
    expect((await router.route(prompt)).name).toBe(expected);
  });

  it('answers null with the default route when nothing passes', async () => {
    const router = await assistant();
    const result = await router.route('the mitochondria is the powerhouse of the cell');
    expect(result.name).toBeNull();
    expect(result.reason).toBe('below_threshold');
    expect(result.defaultRoute).toBe('general');
    expect(result.score).toBeLessThan(result.threshold);
  });

  it('routes on the last user message of chat messages; content parts and tool calls do not break it', async () => {
    const router = await assistant();
    const messages = [
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: 'what is 2 + 2' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 't1', content: '4' },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          { type: 'text', text: 'translate this sentence into French' },
        ],
      },
    ];
    expect((await router.route(messages)).name).toBe('translation');
    const history = await router.route(messages, { includeHistory: true });
    expect(history.candidates.map((c) => c.route)).toContain('math');

    const toolOnly = await router.route([{ role: 'assistant', content: null, tool_calls: [] }]);
    expect(toolOnly).toMatchObject({ name: null, reason: 'no_text', defaultRoute: 'general' });
    expect(
      (await router.route([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }]))
        .reason,
    ).toBe('no_text');
  });

  it('rejects an empty query and a wrong type with stable codes', async () => {
    const router = await assistant();
    await expect(router.route('   ')).rejects.toMatchObject({ code: ErrorCode.EMPTY_QUERY });
    await expect(router.route(42 as unknown as string)).rejects.toMatchObject({
      code: ErrorCode.INPUT_INVALID,
    });
  });

  it('routes a megabyte string without failing', async () => {
    const router = await assistant();
    const result = await router.route('please summarize this article '.repeat(40_000));
    expect(result.name).toBe('summarization');
  });

  it('routeMany agrees with route, in order', async () => {
    const router = await assistant();
    const prompts = ['what is 3 squared', 'hello there', 'cancel my subscription'];
    const many = await router.routeMany(prompts);
    const one = await Promise.all(prompts.map((p) => router.route(p)));
    expect(many.map((r) => r.name)).toEqual(one.map((r) => r.name));
    expect(many.map((r) => r.name)).toEqual(['math', 'chitchat', 'support']);
  });

  it('gives the same decisions with the HNSW index as with exact search', async () => {
    const exact = await assistant({ index: 'exact' });
    const hnsw = await assistant({ index: 'hnsw' });
    expect(exact.indexKind).toBe('exact');
    expect(hnsw.indexKind).toBe('hnsw');
    for (const p of [
      'write a python script',
      'how much is 5 + 7',
      'bonjour',
      'refund please',
      'tl;dr this',
    ]) {
      const [a, b] = [await exact.route(p), await hnsw.route(p)];
      expect(b.name).toBe(a.name);
      expect(b.score).toBeCloseTo(a.score, 5);
    }
  });
});

describe('thresholds', () => {
  const config = (threshold: number | undefined, routerThreshold = 0.99) => ({
    score_threshold: routerThreshold,
    routes: [
      {
        name: 'weather',
        utterances: ['what is the weather today'],
        ...(threshold === undefined ? {} : { score_threshold: threshold }),
      },
      { name: 'music', utterances: ['play some jazz music'] },
    ],
  });

  it('honours a per-route threshold of 0 (aurelio treats 0 as none)', async () => {
    const encoder = await useLite();
    const zero = await SemanticRouter.fromConfig(config(0), { encoder, cacheDir: false });
    const result = await zero.route('quarterly revenue projections for the board');
    expect(result.name).toBe('weather');
    expect(result.threshold).toBe(0);
    const none = await SemanticRouter.fromConfig(config(undefined), { encoder, cacheDir: false });
    expect((await none.route('quarterly revenue projections for the board')).name).toBeNull();
  });

  it('uses a lower-scoring route whose own threshold it passes', async () => {
    const encoder = await useLite();
    const router = await SemanticRouter.fromConfig(
      {
        routes: [
          { name: 'strict', utterances: ['what is the weather today'], score_threshold: 0.99 },
          { name: 'lenient', utterances: ['will it rain tomorrow'], score_threshold: 0.1 },
        ],
      },
      { encoder, cacheDir: false },
    );
    const result = await router.route('what is the weather today in Paris');
    expect(result.candidates[0]!.route).toBe('strict');
    expect(result.name).toBe('lenient');
  });
});

describe('compiled artefact', () => {
  it('a restart with the same config embeds nothing and answers the same', async () => {
    const counting = new CountingEncoder(await useLite());
    const first = await SemanticRouter.fromFile(ASSISTANT, {
      encoder: counting,
      cacheDir: cache.dir,
      index: 'hnsw',
    });
    const embedded = counting.texts;
    expect(embedded).toBeGreaterThan(100);
    const before = await first.route('fix this bug in my rust code');

    counting.texts = 0;
    const second = await SemanticRouter.fromFile(ASSISTANT, {
      encoder: counting,
      cacheDir: cache.dir,
      index: 'hnsw',
    });
    expect(counting.texts).toBe(0);
    expect(second.key).toBe(first.key);
    const after = await second.route('fix this bug in my rust code');
    expect(after.name).toBe(before.name);
    expect(after.score).toBeCloseTo(before.score, 6);
  });

  it('a changed utterance changes the key', async () => {
    const encoder = await useLite();
    const a = await SemanticRouter.fromConfig(
      { routes: [{ name: 'a', utterances: ['one'] }] },
      { encoder, cacheDir: cache.dir },
    );
    const b = await SemanticRouter.fromConfig(
      { routes: [{ name: 'a', utterances: ['two'] }] },
      { encoder, cacheDir: cache.dir },
    );
    expect(a.key).not.toBe(b.key);
  });
});

describe('changing routes without a rebuild', () => {
  it('addRoute embeds only the new utterances and routes to it', async () => {
    const counting = new CountingEncoder(await useLite());
    const router = await SemanticRouter.fromFile(ASSISTANT, { encoder: counting, cacheDir: false });
    counting.texts = 0;
    await router.addRoute({
      name: 'recipes',
      utterances: ['how do I bake [dish]'],
      slots: { dish: ['bread', 'a cake', 'cookies'] },
    });
    expect(counting.texts).toBe(3);
    const result = await router.route('how do I bake banana bread');
    expect(result.name).toBe('recipes');
    expect(result.matched?.template).toBe('how do I bake [dish]');
  });

  it('removeRoute takes its utterances out of the index', async () => {
    const router = await assistant();
    await router.removeRoute('math');
    const result = await router.route('what is 17 times 23');
    expect(result.name).not.toBe('math');
    expect(result.candidates.map((c) => c.route)).not.toContain('math');
    await expect(router.removeRoute('math')).rejects.toMatchObject({ code: ErrorCode.ROUTE_NOT_FOUND });
  });

  it('updateRoute re-embeds only changed utterances', async () => {
    const counting = new CountingEncoder(await useLite());
    const router = await SemanticRouter.fromFile(ASSISTANT, { encoder: counting, cacheDir: false });
    const support = router.routes.find((r) => r.name === 'support')!;
    counting.texts = 0;
    await router.updateRoute('support', {
      utterances: [...support.utterances, 'my parcel never arrived'],
      score_threshold: 0.3,
    });
    expect(counting.texts).toBe(1);
    expect(router.thresholdOf('support')).toBe(0.3);
    expect((await router.route('my parcel never arrived')).name).toBe('support');
  });

  it('a failed update leaves the router exactly as it was', async () => {
    const router = await assistant();
    const before = await router.route('what is 17 times 23');
    const cases: Array<[() => Promise<void>, string]> = [
      // No utterances and no description: nothing to route on.
      [() => router.updateRoute('math', { utterances: [], description: null }), ErrorCode.CONFIG_INVALID],
      [
        () => router.updateRoute('math', { utterances: ['solve [unknown_slot]'] }),
        ErrorCode.TEMPLATE_SLOT_UNDEFINED,
      ],
      [() => router.updateRoute('math', { score_threshold: 2 }), ErrorCode.CONFIG_INVALID],
      [() => router.addRoute({ name: 'math', utterances: ['x'] }), ErrorCode.ROUTE_DUPLICATE],
      [() => router.addRoute({ name: 'x', utterances: 'nope' }), ErrorCode.CONFIG_INVALID],
      [() => router.updateRoute('nope', {}), ErrorCode.ROUTE_NOT_FOUND],
    ];
    for (const [change, code] of cases) {
      const error = await change().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SemrouteError);
      expect((error as SemrouteError).code).toBe(code);
    }
    const after = await router.route('what is 17 times 23');
    expect(after).toMatchObject({ name: before.name, score: before.score, threshold: before.threshold });
    expect(router.routes.map((r) => r.name)).toEqual([
      'coding',
      'math',
      'translation',
      'summarization',
      'support',
      'chitchat',
    ]);
  });
});
