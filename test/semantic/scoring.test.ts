import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS, validateRouterConfig } from '../../src/config/router-config.js';
import { normalisedWeights } from '../../src/semantic/scoring.js';
import { useLite } from '../helpers/encoder.js';
import { runScoringConformance } from './scoring.case.js';

runScoringConformance('hybrid', useLite);
runScoringConformance('dense', useLite);
runScoringConformance('head', useLite);

describe('scoring settings', () => {
  it('is hybrid by default, with a default threshold per scoring; explicit thresholds stay', () => {
    const routes = [{ name: 'a', utterances: ['hi'] }];
    // A file that sets thresholds but no scoring chose them on dense scores: it stays dense, and says so.
    const legacy = validateRouterConfig(
      { routes: [{ name: 'a', utterances: ['hi'], score_threshold: 0.5 }] },
      'old.json',
    );
    expect(legacy.config.scoring).toBe('dense');
    expect(legacy.warnings.join('\n')).toContain('"scoring": "hybrid"');
    expect(validateRouterConfig({ routes, scoring: 'hybrid', score_threshold: 0.4 }).warnings).toEqual([]);
    expect(validateRouterConfig({ routes }).config).toMatchObject({
      scoring: 'hybrid',
      score_threshold: DEFAULT_THRESHOLDS.hybrid,
    });
    expect(validateRouterConfig({ routes, scoring: 'dense' }).config.score_threshold).toBe(0.5);
    expect(validateRouterConfig({ routes, score_threshold: 0.62 }).config.score_threshold).toBe(0.62);
  });

  it('scales weights to sum to 1 and refuses a mix of nothing', () => {
    expect(normalisedWeights({ knn: 1, centroid: 1, lexical: 2 })).toEqual({
      knn: 0.25,
      centroid: 0.25,
      lexical: 0.5,
    });
    expect(() =>
      validateRouterConfig({
        routes: [{ name: 'a', utterances: ['hi'] }],
        hybrid_weights: { knn: 0, centroid: 0, lexical: 0 },
      }),
    ).toThrowError(expect.objectContaining({ path: 'hybrid_weights' }));
  });
});
