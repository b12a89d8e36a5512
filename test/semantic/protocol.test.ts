/** The few-shot protocol on datasets that lack a val split or out-of-scope rows: honest about it. */
import { describe, expect, it } from 'vitest';
import { type Dataset, fewShotConfig, runProtocol, validationRows } from '../../src/semantic/protocol.js';
import { SemanticRouter } from '../../src/semantic/semantic-router.js';
import { useLite } from '../helpers/encoder.js';

const TOPICS: Record<string, string[]> = {
  weather: [
    'will it rain',
    'is it sunny',
    'how cold is it',
    'is it windy',
    'what is the forecast',
    'will it snow',
    'how hot is it today',
    'is there a storm coming',
    'do I need an umbrella',
    'what is the temperature',
  ],
  cooking: [
    'how do I bake bread',
    'a recipe for soup',
    'how long to boil eggs',
    'how to roast a chicken',
    'what goes in a salad',
    'how to make pancakes',
    'how do I fry rice',
    'what spices for curry',
    'how to grill fish',
    'how to cook pasta',
  ],
  music: [
    'play some jazz',
    'who sang this song',
    'turn up the music',
    'play my playlist',
    'skip this track',
    'what is this song',
    'play something relaxing',
    'pause the music',
    'add this song',
    'play the next album',
  ],
};

/** A small dataset in the normalised format: train rows per label (plus nulls), test rows, no val. */
function dataset(withNulls: boolean): Dataset {
  const train: Array<{ text: string; label: string | null }> = Object.entries(TOPICS).flatMap(
    ([label, texts]) => texts.slice(0, 8).map((text) => ({ text, label })),
  );
  if (withNulls)
    train.push(
      ...['who wrote hamlet', 'how far is the moon', 'what is a black hole'].map((text) => ({
        text,
        label: null,
      })),
    );
  const test = [
    ...Object.entries(TOPICS).flatMap(([label, texts]) => texts.slice(8).map((text) => ({ text, label }))),
    { text: 'who invented the telephone', label: null },
    { text: 'what is the speed of light', label: null },
  ];
  return { name: 'tiny', labels: Object.keys(TOPICS), splits: { train, test } };
}

describe('validationRows', () => {
  it('uses the val split when there is one; else carves the last rows per label that are not routes', () => {
    const given = dataset(true);
    expect(
      validationRows({ ...given, splits: { ...given.splits, val: [{ text: 'x', label: null }] } }, 3),
    ).toEqual({
      rows: [{ text: 'x', label: null }],
      source: 'val split',
    });
    const carved = validationRows(given, 3);
    expect(carved.source).toBe('carved from train');
    // 8 train rows a label, 3 are routes: the last 5 of the other 5; all 3 null rows.
    expect(carved.rows.filter((r) => r.label === 'weather').map((r) => r.text)).toEqual(
      TOPICS.weather!.slice(3, 8),
    );
    expect(carved.rows.filter((r) => r.label === null)).toHaveLength(3);
    const routes = new Set(Object.values(TOPICS).flatMap((t) => t.slice(0, 3)));
    const test = new Set(given.splits.test.map((r) => r.text));
    for (const row of carved.rows) expect(routes.has(row.text) || test.has(row.text)).toBe(false);
    expect(validationRows(given, 8).rows.every((r) => r.label === null)).toBe(true);
  });
});

describe('runProtocol without a val split', () => {
  it('tunes on the carved rows, says so, and fits with --fit', async () => {
    const result = await runProtocol(dataset(true), {
      shots: 3,
      index: 'exact',
      fit: true,
      encoder: await useLite(),
    });
    expect(result.valSource).toBe('carved from train');
    expect(result.valRows).toBe(18);
    expect(result.fit).toBe(true);
    expect(result.notes.join('\n')).toContain('no val split');
    expect(result.thresholdMethod).toContain('fit');
    expect(result.test.inScopeAccuracy).toBeGreaterThan(0.8);
  });

  it('says what it means when the tuning rows have no out-of-scope rows', async () => {
    const result = await runProtocol(dataset(false), {
      shots: 3,
      index: 'exact',
      fit: false,
      encoder: await useLite(),
    });
    expect(result.valSource).toBe('carved from train');
    expect(result.notes.join('\n')).toContain('the threshold could not be tuned for out-of-scope traffic');
  });

  it('says it fitted nothing when nothing is left to tune on', async () => {
    const result = await runProtocol(dataset(false), {
      shots: 10,
      index: 'exact',
      fit: true,
      encoder: await useLite(),
    });
    expect(result.valSource).toBe('none');
    expect(result.fit).toBe(false);
    expect(result.thresholdMethod).toBe('router default');
    expect(result.notes.join('\n')).toContain('--fit did nothing');
  });
});

describe('descriptions', () => {
  it("a dataset's descriptions become the routes' descriptions, unless turned off", () => {
    const given = { ...dataset(false), descriptions: { weather: 'the weather forecast', toString: 'x' } };
    const on = fewShotConfig(given, 1);
    expect(on.routes?.find((r) => r.name === 'weather')).toMatchObject({
      description: 'the weather forecast',
    });
    expect(on.routes?.find((r) => r.name === 'cooking')).not.toHaveProperty('description');
    // A description of a label the dataset lacks makes no route; a prototype name is no label.
    expect(on.routes?.map((r) => r.name)).toEqual(['weather', 'cooking', 'music']);
    expect(fewShotConfig(given, 1, {}, false).routes?.some((r) => 'description' in r)).toBe(false);
  });

  it('a route with only a description routes, and a description counts as one utterance', async () => {
    const router = await SemanticRouter.fromConfig(
      {
        routes: [
          { name: 'weather', utterances: [], description: 'weather forecast, rain and temperature' },
          { name: 'cooking', utterances: ['how do I bake bread'], description: 'cooking and recipes' },
        ],
        score_threshold: 0.2,
      },
      { encoder: await useLite(), cacheDir: false },
    );
    try {
      expect((await router.route('what is the weather forecast for tomorrow')).name).toBe('weather');
      // Its description is matched like an utterance of the route.
      const recipes = await router.route('cooking and recipes');
      expect(recipes.name).toBe('cooking');
      expect(recipes.matched?.utterance).toBe('cooking and recipes');
      expect(router.inspect().utterances.map((u) => u.text)).toEqual([
        'weather forecast, rain and temperature',
        'how do I bake bread',
        'cooking and recipes',
      ]);
    } finally {
      await router.close();
    }
  });
});
