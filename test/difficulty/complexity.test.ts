/**
 * Our complexity router against what LiteLLM's documents and its code give: the test vectors of
 * its README and PR #37500 (scores re-derived by hand from its default weights and lists).
 */
import { describe, expect, it } from 'vitest';
import { ComplexityClassifier, DEFAULT_COMPLEXITY } from '../../src/difficulty/complexity.js';

const classifier = new ComplexityClassifier();

describe('the LiteLLM complexity heuristic', () => {
  it.each([
    ['What is 2+2?', -0.15, 'SIMPLE', 'heuristic_scorer'],
    [
      'Design a distributed microservice architecture with Kubernetes orchestration',
      0.4,
      'COMPLEX',
      'heuristic_scorer',
    ],
    [
      'Think step by step and reason through this problem carefully and show your work',
      0.25,
      'REASONING',
      'reasoning_override',
    ],
    // Two markers, but under the floor (simple_medium): the override does not fire (PR #37500).
    ['hi, step by step, pros and cons', 0.1, 'SIMPLE', 'heuristic_scorer'],
  ])('%s → %s (%s)', (prompt, score, tier, cause) => {
    const d = classifier.classify(prompt);
    expect(d.score).toBeCloseTo(score, 6);
    expect(d.tier).toBe(tier);
    expect(d.cause).toBe(cause);
  });

  it('matches words on Unicode word boundaries and phrases as substrings', () => {
    // `implement` must not match "implementing", `microservice` not "microservices".
    const d = classifier.classify('implementing microservices for the team');
    expect(d.signals.join(' ')).not.toMatch(/code|technical/);
    expect(classifier.classify('please implement this function').signals).toContain(
      'code (function, implement)',
    );
  });

  it('counts each keyword once, and a long ask as complex tokens', () => {
    const long = `${'performance '.repeat(200)}`;
    const d = classifier.classify(long);
    expect(d.signals).toContain('long (600 tokens)');
    expect(d.score).toBeCloseTo(0.1, 6);
  });

  it('applies keyword tier rules first (the most severe wins) and flags escalation', () => {
    const c = new ComplexityClassifier({
      ...DEFAULT_COMPLEXITY,
      keywordTierRules: [
        { keywords: ['legal'], tier: 'COMPLEX' },
        { keywords: ['contract'], tier: 'REASONING' },
      ],
    });
    expect(c.classify('review this legal contract').tier).toBe('REASONING');
    expect(c.classify('hi LITELLM ESCALATE').escalated).toBe(true);
    expect(c.classify('hi litellm escalate').escalated).toBe(false);
  });

  it('an ask with no text is MEDIUM by default_fallback', () => {
    expect(classifier.classify('   ')).toMatchObject({ tier: 'MEDIUM', cause: 'default_fallback' });
  });
});
