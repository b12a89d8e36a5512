/** Text the default model cannot read is not routed: every such text would get the same vector. */
import { describe, expect, it } from 'vitest';
import { SemanticRouter } from '../../src/semantic/semantic-router.js';
import { useLite } from '../helpers/encoder.js';

const ROUTES = [
  { name: 'poem', utterances: ['write a poem about spring', 'compose a short verse'] },
  { name: 'weather', utterances: ['will it rain tomorrow', 'what is the weather like today'] },
];

describe('out-of-vocabulary guard', () => {
  it('does not route Chinese, Japanese, Thai or emoji-only text with the local model: out_of_vocabulary', async () => {
    const router = await SemanticRouter.fromConfig(
      { routes: ROUTES, default_route: 'general' },
      { encoder: await useLite(), cacheDir: false },
    );
    for (const text of [
      '今天天气怎么样',
      '写一首关于春天的诗',
      'こんにちは元気ですか',
      'วันนี้อากาศเป็นอย่างไร',
      '🙂🙂🙂 🌧️',
    ]) {
      const r = await router.route(text);
      expect(r.reason, text).toBe('out_of_vocabulary');
      expect(r.name).toBeNull();
      expect(r.defaultRoute).toBe('general');
      expect(r.coverage).toBeLessThan(0.5);
      expect(r.candidates).toEqual([]);
    }
    // Two unrelated Chinese sentences are one vector to this model: exactly why they are refused.
    const [a, b] = await (await useLite()).embed(['今天天气怎么样', '写一首关于春天的诗']);
    expect(a!.reduce((s, x, i) => s + x * b![i]!, 0)).toBeCloseTo(1, 5);
  });

  it('routes mixed-script text that is mostly readable, and reports the share it read', async () => {
    const router = await SemanticRouter.fromConfig(
      { routes: ROUTES },
      { encoder: await useLite(), cacheDir: false },
    );
    const mixed = await router.route('will it rain tomorrow in 北京');
    expect(mixed.reason).not.toBe('out_of_vocabulary');
    expect(mixed.candidates[0]!.route).toBe('weather');
    expect(mixed.coverage).toBeGreaterThan(0.8);
    expect(mixed.coverage).toBeLessThan(1);
    const many = await router.routeMany(['今天天气怎么样', 'will it rain tomorrow']);
    expect(many.map((r) => r.reason)).toEqual([
      'out_of_vocabulary',
      expect.stringMatching(/matched|below_threshold/),
    ]);
    // The threshold is the router's to set.
    const lenient = await SemanticRouter.fromConfig(
      { routes: ROUTES, min_coverage: 0 },
      { encoder: await useLite(), cacheDir: false },
    );
    expect((await lenient.route('今天天气怎么样')).reason).not.toBe('out_of_vocabulary');
  });

  it('warns at compile about utterances the model cannot read, naming models that can', async () => {
    const router = await SemanticRouter.fromConfig(
      { routes: [...ROUTES, { name: 'chinese', utterances: ['写一首关于春天的诗', 'write it in chinese'] }] },
      { encoder: await useLite(), cacheDir: false },
    );
    const warning = router.warnings.join('\n');
    expect(warning).toContain('写一首关于春天的诗');
    expect(warning).toContain('multilingual');
    expect(warning).toContain('openai');
  });
});

describe('coverage of plain ASCII text', () => {
  it('is what the general path counts (a trailing ideographic space forces that path and counts nothing)', async () => {
    const encoder = await useLite();
    for (const text of ['how do I reverse a list in python', 'a~b`c|d{e}  f', '', '   ', 'x']) {
      expect(encoder.coverage!(text), JSON.stringify(text)).toBe(encoder.coverage!(`${text}\u3000`));
    }
    expect(encoder.coverage!('hello 今天')).toBeCloseTo(5 / 7, 9);
  });
});
