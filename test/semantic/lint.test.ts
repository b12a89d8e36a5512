/** `semroute lint`'s checks, each on a fixture made to have that one problem. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintRouter } from '../../src/semantic/lint.js';
import { SemanticRouter } from '../../src/semantic/semantic-router.js';
import { useLite } from '../helpers/encoder.js';

const FIXTURES: Array<{ file: string; severity: 'error' | 'warning'; code: string; route: string }> = [
  { file: 'threshold-unreachable.json', severity: 'error', code: 'threshold_unreachable', route: 'weather' },
  { file: 'duplicate.json', severity: 'error', code: 'duplicate_utterance', route: 'support' },
  { file: 'confused.json', severity: 'warning', code: 'confused_utterance', route: 'weather' },
  { file: 'near-duplicate.json', severity: 'warning', code: 'near_duplicate', route: 'travel' },
  { file: 'single-utterance.json', severity: 'warning', code: 'single_utterance', route: 'greeting' },
  { file: 'template-copies.json', severity: 'warning', code: 'template_near_copies', route: 'reset' },
];

const lint = async (file: string) =>
  lintRouter(await SemanticRouter.fromFile(file, { encoder: await useLite(), cacheDir: false }));

describe('lintRouter', () => {
  it('judges a head router leave-one-out without the head, which learned the utterance asked about', async () => {
    const encoder = await useLite();
    const config = JSON.parse(await readFile('test/fixtures/lint/confused.json', 'utf8')) as Record<
      string,
      unknown
    >;
    const confusions = async (scoring: string) =>
      lintRouter(await SemanticRouter.fromConfig({ ...config, scoring }, { encoder, cacheDir: false }))
        .warnings.filter((w) => w.code === 'confused_utterance')
        .map((w) => w.message);
    const hybrid = await confusions('hybrid');
    expect(hybrid.length).toBeGreaterThan(0);
    // The leave-one-out parts are the hybrid score's, so a head router is told the same.
    expect(await confusions('head')).toEqual(hybrid);
  });

  it.each(FIXTURES)('$file → $severity $code on $route', async ({ file, severity, code, route }) => {
    const report = await lint(path.join('test/fixtures/lint', file));
    const list = severity === 'error' ? report.errors : report.warnings;
    const found = list.filter((f) => f.code === code);
    expect(found.map((f) => f.route)).toContain(route);
    expect(found[0]!.message.length).toBeGreaterThan(20);
    // Each fixture clears its check's bar by more than int8 moves a cosine (README: within
    // 0.999 of fp32), so no CPU can tip it over.
    const details = found[0]!.details as { meanCosine?: number; cosine?: number } | undefined;
    if (details?.meanCosine !== undefined) expect(details.meanCosine).toBeGreaterThan(0.92 + 0.01);
    if (details?.cosine !== undefined) expect(details.cosine).toBeGreaterThan(0.85 + 0.01);
    // Errors are only the checks that make a route unusable.
    for (const e of report.errors) expect(['threshold_unreachable', 'duplicate_utterance']).toContain(e.code);
  });

  it('names the pair of a confusion, and passes the shipped router without errors', async () => {
    const confused = await lint('test/fixtures/lint/confused.json');
    const pair = confused.warnings.find((w) => w.code === 'confused_utterance')!;
    expect(pair.message).toContain('"how do I bake bread" → cooking');
    const shipped = await lint('routes/assistant.json');
    expect(shipped.errors).toEqual([]);
    expect(shipped.utterances).toBeGreaterThan(100);
  });
});
