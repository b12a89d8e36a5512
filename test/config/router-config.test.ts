import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandRoutes, loadRouterConfig, validateRouterConfig } from '../../src/config/router-config.js';
import { BUILTIN_SLOTS } from '../../src/config/slots.js';
import { ErrorCode, SemrouteError } from '../../src/errors.js';
import { tempDir } from '../helpers/encoder.js';

function thrown(f: () => unknown): SemrouteError {
  try {
    f();
  } catch (e) {
    if (e instanceof SemrouteError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

async function thrownAsync(p: Promise<unknown>): Promise<SemrouteError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (e instanceof SemrouteError) return e;
  throw new Error(`expected a SemrouteError, got ${String(e)}`);
}

const route = (name: string, utterances: string[], extra: Record<string, unknown> = {}) => ({
  name,
  utterances,
  ...extra,
});

describe('router.json schema', () => {
  it("accepts LiteLLM's documented file unchanged, with our defaults", async () => {
    const loaded = await loadRouterConfig(path.resolve('routes/litellm-example.json'));
    // Its per-route thresholds were chosen on dense cosine: scored dense, and said so once.
    expect(loaded.warnings).toHaveLength(1);
    expect(loaded.warnings[0]).toContain('scored "dense"');
    const { config } = loaded;
    expect(config.scoring).toBe('dense');
    expect(config.encoder_type).toBe('openai');
    expect(config.routes.map((r) => r.name)).toEqual(['litellm-gpt-4.1', 'litellm-claude-35']);
    expect(config.routes[0]!.score_threshold).toBe(0.5);
    expect(config.aggregation).toBe('top_k_mean');
    expect(Object.isFrozen(config.routes[0])).toBe(true);
  });

  it('warns about unknown keys (with their path) instead of failing', () => {
    const { warnings } = validateRouterConfig(
      { routes: [route('a', ['x'], { colour: 'red' })], extra_thing: 1, index: { type: 'exact', bogus: 2 } },
      'r.json',
    );
    expect(warnings).toEqual([
      'r.json: extra_thing: unknown key, ignored',
      'r.json: index.bogus: unknown key, ignored',
      'r.json: routes[0].colour: unknown key, ignored',
    ]);
  });

  it.each([
    ['a route without utterances or a description', { routes: [route('a', [])] }, 'routes[0].utterances'],
    ['an empty utterance', { routes: [route('a', ['ok', ' '])] }, 'routes[0].utterances[1]'],
    [
      'a threshold above 1',
      { routes: [route('a', ['x'], { score_threshold: 1.5 })] },
      'routes[0].score_threshold',
    ],
    [
      'a negative router threshold',
      { routes: [route('a', ['x'])], score_threshold: -0.1 },
      'score_threshold',
    ],
    ['a number as utterances', { routes: [route('a', 5 as unknown as string[])] }, 'routes[0].utterances'],
    ['no routes', { routes: [] }, 'routes'],
    ['an unknown aggregation', { routes: [route('a', ['x'])], aggregation: 'median' }, 'aggregation'],
    ['a non-object', [1, 2], '(root)'],
  ])('rejects %s with CONFIG_INVALID naming the path', (_what, raw, at) => {
    const error = thrown(() => validateRouterConfig(raw, 'bad.json'));
    expect(error.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(error.path).toBe(at);
    expect(error.file).toBe('bad.json');
    expect(error.message).toContain('bad.json');
    expect(error.message).toContain(at);
  });

  it('honours a threshold of 0', () => {
    const { config } = validateRouterConfig({ routes: [route('a', ['x'], { score_threshold: 0 })] });
    expect(config.routes[0]!.score_threshold).toBe(0);
  });

  it('rejects duplicate route names, naming both', () => {
    const error = thrown(() =>
      validateRouterConfig({ routes: [route('a', ['x']), route('b', ['y']), route('a', ['z'])] }),
    );
    expect(error.code).toBe(ErrorCode.ROUTE_DUPLICATE);
    expect(error.path).toBe('routes[2].name');
    expect(error.message).toContain('routes[0]');
  });

  it('reports malformed JSON with line and column', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, 'router.json');
      await writeFile(file, '{\n  "routes": [\n    {"name": "a", "utterances": ["x"],}\n  ]\n}\n');
      const error = await thrownAsync(loadRouterConfig(file));
      expect(error.code).toBe(ErrorCode.CONFIG_SYNTAX);
      expect(error.message).toContain(`${file}:3:39`);
      expect(error.details).toMatchObject({ line: 3, column: 39 });
      await writeFile(file, '{"routes": [');
      expect((await thrownAsync(loadRouterConfig(file))).message).toContain('end of input');
    } finally {
      await cleanup();
    }
  });

  it('rejects invalid UTF-8 and a missing file with their own codes', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, 'router.json');
      await writeFile(file, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
      expect((await thrownAsync(loadRouterConfig(file))).code).toBe(ErrorCode.CONFIG_SYNTAX);
      expect((await thrownAsync(loadRouterConfig(path.join(dir, 'missing.json')))).code).toBe(
        ErrorCode.FILE_READ,
      );
    } finally {
      await cleanup();
    }
  });
});

describe('templates', () => {
  it('expands a placeholder per slot value, remembering the template', () => {
    const { config } = validateRouterConfig({
      routes: [route('code', ['how to code a program in [language]', 'plain'])],
    });
    const expanded = expandRoutes(config);
    expect(expanded).toHaveLength(BUILTIN_SLOTS.language!.length + 1);
    expect(expanded[0]).toEqual({
      route: 'code',
      text: 'how to code a program in Python',
      template: 'how to code a program in [language]',
    });
    expect(expanded.at(-1)).toEqual({ route: 'code', text: 'plain', template: undefined });
  });

  it('takes the cartesian product; route slots override router slots, which override built-ins', () => {
    const { config } = validateRouterConfig({
      slots: { language: ['French', 'German'], size: ['short', 'long'] },
      routes: [
        route('t', ['translate a [size] text into [language]']),
        route('u', ['say it in [language]'], { slots: { language: ['Welsh'] } }),
      ],
    });
    const texts = expandRoutes(config).map((u) => u.text);
    expect(texts).toEqual([
      'translate a short text into French',
      'translate a short text into German',
      'translate a long text into French',
      'translate a long text into German',
      'say it in Welsh',
    ]);
  });

  it('writes literal brackets with \\[', () => {
    const { config } = validateRouterConfig({ routes: [route('a', ['array\\[0\\] is the first'])] });
    expect(expandRoutes(config)[0]!.text).toBe('array[0] is the first');
  });

  it('names route, utterance and slot when a slot is undefined', () => {
    const error = thrown(() =>
      validateRouterConfig({ routes: [route('r1', ['ok', 'go to [planet]'])] }, 'x.json'),
    );
    expect(error.code).toBe(ErrorCode.TEMPLATE_SLOT_UNDEFINED);
    expect(error.path).toBe('routes[0].utterances[1]');
    expect(error.message).toContain('"r1"');
    expect(error.message).toContain('"planet"');
    expect(error.message).toContain('go to [planet]');
  });

  it('caps explosions, naming route and utterance', () => {
    const values = Array.from({ length: 40 }, (_, i) => `v${i}`);
    const error = thrown(() =>
      validateRouterConfig({
        template_limit: 1000,
        slots: { a: values, b: values },
        routes: [route('big', ['[a] and [b]'])],
      }),
    );
    expect(error.code).toBe(ErrorCode.TEMPLATE_EXPLOSION);
    expect(error.message).toContain('1600');
    expect(error.message).toContain('"big"');
  });

  it('rejects an unclosed placeholder', () => {
    const error = thrown(() => validateRouterConfig({ routes: [route('a', ['broken [slot'])] }));
    expect(error.code).toBe(ErrorCode.TEMPLATE_SYNTAX);
  });
});
