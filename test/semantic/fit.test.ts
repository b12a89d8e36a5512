import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { evaluate, type LabelledRow } from '../../src/semantic/evaluate.js';
import { bestGlobalThreshold, fit as fitRouter } from '../../src/semantic/fit.js';
import { SemanticRouter } from '../../src/semantic/semantic-router.js';
import { tempDir, useLite } from '../helpers/encoder.js';

const ROWS: LabelledRow[] = [
  { text: 'write a function that adds two numbers in go', label: 'coding' },
  { text: 'my javascript code throws undefined is not a function', label: 'coding' },
  { text: 'what is 45 divided by 9', label: 'math' },
  { text: 'solve 3x - 7 = 11', label: 'math' },
  { text: 'translate thank you very much into Japanese', label: 'translation' },
  { text: 'summarize the meeting transcript below', label: 'summarization' },
  { text: 'I never received my order', label: 'support' },
  { text: 'hello friend', label: 'chitchat' },
  { text: 'who painted the mona lisa', label: null },
  { text: 'what is the tallest mountain on earth', label: null },
  { text: 'recommend a good science fiction novel', label: null },
  { text: 'how many legs does a spider have', label: null },
];

describe('evaluate', () => {
  it('counts in-scope accuracy, out-of-scope recall and a confusion table', async () => {
    const router = await SemanticRouter.fromFile('routes/assistant.json', {
      encoder: await useLite(),
      cacheDir: false,
    });
    const m = await evaluate(router, ROWS);
    expect(m.rows).toBe(12);
    expect(m.inScope).toBe(8);
    expect(m.outOfScope).toBe(4);
    const inScopeRight = Object.entries(m.confusion)
      .filter(([e]) => e !== '(none)')
      .reduce((n, [e, row]) => n + (row[e] ?? 0), 0);
    expect(m.inScopeAccuracy).toBeCloseTo(inScopeRight / 8, 10);
    expect(m.oosRecall).toBeCloseTo((m.confusion['(none)']?.['(none)'] ?? 0) / 4, 10);
    expect(m.accuracy).toBeCloseTo((inScopeRight + (m.confusion['(none)']?.['(none)'] ?? 0)) / 12, 10);
    expect(
      Object.values(m.confusion).reduce((n, row) => n + Object.values(row).reduce((a, b) => a + b, 0), 0),
    ).toBe(12);
  });

  it('rejects labels that name no route', async () => {
    const router = await SemanticRouter.fromFile('routes/assistant.json', {
      encoder: await useLite(),
      cacheDir: false,
    });
    await expect(evaluate(router, [{ text: 'x', label: 'nope' }])).rejects.toMatchObject({
      code: ErrorCode.ROUTE_NOT_FOUND,
    });
  });
});

describe('bestGlobalThreshold', () => {
  it('finds the threshold that maximises right answers, abstentions included', () => {
    // Three rows: top scores 0.9 (right route), 0.6 (wrong route, expected null), 0.4 (expected null).
    const ranked = [
      [{ route: 0, score: 0.9, best: 0 }],
      [{ route: 1, score: 0.6, best: 1 }],
      [{ route: 0, score: 0.4, best: 2 }],
    ];
    const expected = Int32Array.from([0, -1, -1]);
    const { threshold, correct } = bestGlobalThreshold(ranked, expected);
    expect(correct).toBe(3);
    expect(threshold).toBeGreaterThan(0.6);
    expect(threshold).toBeLessThanOrEqual(0.9);
  });

  it('with no out-of-scope rows, keeps the lowest of equally good thresholds (rejecting nothing for nothing)', () => {
    // 0.9 right, 0.7 right, 0.5 wrong route: any threshold below 0.7 gets the two right rows.
    // Rejecting the wrong one (a threshold in 0.5–0.7) gains nothing on these rows, and on new
    // traffic would reject right answers scored that low too: the lowest threshold is kept.
    const ranked = [
      [{ route: 0, score: 0.9, best: 0 }],
      [{ route: 1, score: 0.7, best: 1 }],
      [{ route: 0, score: 0.5, best: 2 }],
    ];
    const { threshold, correct } = bestGlobalThreshold(ranked, Int32Array.from([0, 1, 1]));
    expect(correct).toBe(2);
    expect(threshold).toBeLessThan(0.5);
    // The same rows with an out-of-scope one: abstaining now earns something, and of the
    // equally good thresholds the highest (the one with the margin) is kept.
    const withNull = bestGlobalThreshold(
      [...ranked, [{ route: 0, score: 0.3, best: 3 }]],
      Int32Array.from([0, 1, 1, -1]),
    );
    expect(withNull.correct).toBe(3);
    expect(withNull.threshold).toBeCloseTo(0.6, 10);
  });
});

describe('fit', () => {
  it('never does worse than where it started on its rows, and is saved for a restart', async () => {
    const encoder = await useLite();
    const { dir, cleanup } = await tempDir();
    try {
      const router = await SemanticRouter.fromFile('routes/assistant.json', { encoder, cacheDir: dir });
      const result = await fitRouter(router, ROWS, { objective: 'accuracy' });
      expect(result.after.accuracy).toBeGreaterThanOrEqual(result.before.accuracy);
      expect(Object.keys(result.thresholds).sort()).toEqual(router.routes.map((r) => r.name).sort());
      expect(router.fit).toEqual(result.record);
      for (const [name, t] of Object.entries(result.thresholds)) expect(router.thresholdOf(name)).toBe(t);

      const restarted = await SemanticRouter.fromFile('routes/assistant.json', { encoder, cacheDir: dir });
      expect(restarted.fit?.thresholds).toEqual(result.thresholds);
      expect(restarted.currentScoring).toEqual({ aggregation: result.aggregation, topK: result.topK });
      expect((await evaluate(restarted, ROWS)).accuracy).toBeCloseTo(result.after.accuracy, 10);
    } finally {
      await cleanup();
    }
  });

  it('a fit made for other threshold settings is not applied', async () => {
    const encoder = await useLite();
    const router = await SemanticRouter.fromFile(path.resolve('routes/assistant.json'), {
      encoder,
      cacheDir: false,
    });
    const result = await fitRouter(router, ROWS, { save: false });
    const other = await SemanticRouter.fromConfig(
      { ...router.routerConfig, score_threshold: 0.6 },
      { encoder, cacheDir: false },
    );
    expect(other.applyFit(result.record)).toBe(false);
    expect(other.thresholdOf('math')).toBe(0.6);
  });
});
