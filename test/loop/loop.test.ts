/**
 * The whole loop on a real proxy against fakes, as an operator runs it: traffic through a
 * complexity router → the decision log → shadow grades from a judge → `semroute calibrate` on
 * the log → `semroute replay` shows what the calibrated router would change (and gates it) →
 * the new config deployed by a reload, routing the hard prompts to the strong model.
 *
 * The fakes make the truth known: the cheap model answers briefly, the strong one thoroughly;
 * the judge gives a brief answer to an easy question 8, to a hard one 2, a thorough answer 9.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers/encoder.js';
import { tiedEnv } from '../helpers/tied.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/semroute.js');
const MASTER = 'sk-loop-master-0000000001';

const COUNTRIES = [
  'France',
  'Japan',
  'Brazil',
  'Kenya',
  'Canada',
  'Peru',
  'Norway',
  'India',
  'Egypt',
  'Chile',
];
const THINGS = ['integer', 'prime', 'matrix', 'graph', 'polynomial', 'sequence'];
const easy = (i: number) => `what is the capital of ${COUNTRIES[i % 10]}? (${i})`;
const hard = (i: number) =>
  `Prove rigorously that every ${THINGS[i % 6]} with the property described below satisfies the bound, derive the constant exactly, and justify each lemma you use along the way. Case ${i}.`;
const isHard = (text: string) => text.includes('Prove rigorously');

let cheap: FakeUpstream;
let strong: FakeUpstream;
let judge: FakeUpstream;
let dir: { dir: string; cleanup: () => Promise<void> };
let server: Awaited<ReturnType<typeof serve>>;
let config: string;
let logFile: string;

const yaml = (router: string) => `
model_list:
  - { model_name: cheap, litellm_params: { model: openai/cheap, api_base: ${cheap.url}, api_key: k }, model_info: { input_cost_per_token: 0.0000001, output_cost_per_token: 0.0000004 } }
  - { model_name: strong, litellm_params: { model: openai/strong, api_base: ${strong.url}, api_key: k }, model_info: { input_cost_per_token: 0.00001, output_cost_per_token: 0.00004 } }
  - { model_name: judge, litellm_params: { model: openai/judge, api_base: ${judge.url}, api_key: k }, model_info: { input_cost_per_token: 0.000001, output_cost_per_token: 0.000004 } }
  - model_name: smart
    litellm_params:
      model: auto_router/complexity_router
      complexity_router_config:
${router}
router_settings:
  shadow: { share: 1, candidates: [cheap, strong], judge: judge, max_usd_per_day: 10 }
general_settings:
  master_key: ${MASTER}
  decision_log: { path: decisions.jsonl, keep_prompts: true }
`;

const HEURISTIC = '        tiers: { SIMPLE: cheap, MEDIUM: cheap, COMPLEX: strong }';

async function semroute(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: tiedEnv(),
      maxBuffer: 32 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  [cheap, strong, judge, dir] = await Promise.all([
    startFakeUpstream(),
    startFakeUpstream(),
    startFakeUpstream(),
    tempDir(),
  ]);
  cheap.behave({ reply: () => 'brief answer' });
  strong.behave({ reply: () => 'thorough answer with every step' });
  judge.behave({
    reply: (text) => (text.includes('thorough answer') ? '9' : isHard(text) ? '2' : '8'),
  });
  config = path.join(dir.dir, 'config.yaml');
  logFile = path.join(dir.dir, 'decisions.jsonl');
  await writeFile(config, yaml(HEURISTIC));
  server = await serve({ config, port: 0, signals: false, watch: false, logger: false });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await Promise.all([cheap?.close(), strong?.close(), judge?.close()]);
  await dir?.cleanup();
});

const client = () => new OpenAI({ apiKey: MASTER, baseURL: `${server.url}/v1`, maxRetries: 0 });

describe('the loop: traffic → log → shadow grades → calibrate → replay → deploy', () => {
  it('logs every decision and grades each one in the shadow, off the client path', async () => {
    const prompts = Array.from({ length: 120 }, (_, i) => (i % 2 === 0 ? easy(i) : hard(i)));
    for (const p of prompts) {
      const answer = await client().chat.completions.create({
        model: 'smart',
        messages: [{ role: 'user', content: p }],
      });
      // The heuristic sees no difference: both kinds go to the cheap model, whose answer the client gets.
      expect(answer.choices[0]!.message.content).toBe('brief answer');
    }
    await server.loop.shadow!.idle();
    server.loop.decisionLog!.flush();
    const lines = (await readFile(logFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const decisions = lines.filter((l) => l.type === 'decision');
    const shadows = lines.filter((l) => l.type === 'shadow');
    expect(decisions).toHaveLength(120);
    expect(shadows).toHaveLength(120);
    expect(new Set(shadows.map((s) => s.id))).toEqual(new Set(decisions.map((d) => d.id)));
    const hardGrade = shadows.find((s) => isHard(s.prompt))!;
    expect(hardGrade.outcomes).toEqual({ cheap: 0.2, strong: 0.9 });
    expect(shadows.find((s) => !isHard(s.prompt))!.outcomes).toEqual({ cheap: 0.8, strong: 0.9 });
    const metrics = await (
      await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${MASTER}` } })
    ).text();
    expect(metrics).toMatch(/semroute_shadow_total\{result="graded"\} 120/);
    expect(metrics).toMatch(/semroute_decision_log_lines_total\{result="dropped"\} 0/);
  }, 240_000);

  it('calibrates on the log, replays the calibrated router against it, and the gate sees the change', async () => {
    const out = path.join(dir.dir, 'router');
    const cal = await semroute('calibrate', '--outcomes', logFile, '--out', out, '--target-share', '0.5');
    expect(cal.code, cal.stderr).toBe(0);
    expect(cal.stderr).toMatch(/a decision log: 120 decisions, 120 shadow grades; 120 graded rows used/);
    // The truth is learnable: held out, the calibration finds the hard half. With these grades
    // (a hard prompt gains 0.7 from the strong model, an easy one 0.1) the oracle's APGR is
    // 0.6875, random's 0.5.
    expect(Number(/^APGR (\d\.\d{3})/m.exec(cal.stdout)![1])).toBeGreaterThan(0.67);
    const next = path.join(dir.dir, 'config.next.yaml');
    await writeFile(
      next,
      yaml(
        `        classifier_type: semroute\n        difficulty_model: router\n        tiers: { SIMPLE: cheap, COMPLEX: strong }`,
      ),
    );
    const gated = await semroute(
      'replay',
      '--config',
      next,
      '--log',
      logFile,
      '--max-changed',
      '5%',
      '--json',
    );
    expect(gated.code).toBe(1);
    const report = JSON.parse(gated.stdout);
    expect(report.replayed).toBe(120);
    // The hard prompts move to the strong model, the easy ones stay.
    expect(report.groups['cheap → strong']).toBeGreaterThanOrEqual(50);
    expect(report.groups['strong → cheap'] ?? 0).toBe(0);
    expect(report.changedShare).toBeGreaterThan(0.4);
    expect(report.cost.deltaUsd).toBeGreaterThan(0);
    expect(report.top[0].prompt).toContain('Prove rigorously');
    const loose = await semroute('replay', '--config', next, '--log', logFile, '--max-changed', '90%');
    expect(loose.code).toBe(0);
    expect(loose.stdout).toMatch(/changed: \d+ \(\d+\.\d%\), allowed 90\.0%: pass/);
    expect(loose.stdout).toMatch(/SIMPLE → COMPLEX/);
  }, 240_000);

  it('deployed by a reload, the calibrated router sends hard prompts to the strong model', async () => {
    await writeFile(
      config,
      yaml(
        `        classifier_type: semroute\n        difficulty_model: router\n        tiers: { SIMPLE: cheap, COMPLEX: strong }`,
      ),
    );
    expect(await server.runtime.reload('test')).toBe(true);
    const hardAnswer = await client().chat.completions.create({
      model: 'smart',
      messages: [{ role: 'user', content: hard(999) }],
    });
    expect(hardAnswer.choices[0]!.message.content).toBe('thorough answer with every step');
    const easyAnswer = await client().chat.completions.create({
      model: 'smart',
      messages: [{ role: 'user', content: easy(998) }],
    });
    expect(easyAnswer.choices[0]!.message.content).toBe('brief answer');
  }, 120_000);

  it('a corrupt log line is skipped and counted, never fatal; a judge answering nonsense costs a counted skip', async () => {
    await writeFile(path.join(dir.dir, 'torn.jsonl'), `${await readFile(logFile, 'utf8')}{"type":"decis`);
    const drift = await semroute('drift', '--log', path.join(dir.dir, 'torn.jsonl'), '--json');
    expect(drift.code).toBe(0);
    expect(JSON.parse(drift.stdout).corrupt).toBe(1);
    judge.behave({ reply: () => 'I think it is quite good overall' });
    await client().chat.completions.create({
      model: 'smart',
      messages: [{ role: 'user', content: easy(1000) }],
    });
    await server.loop.shadow!.idle();
    const metrics = await (
      await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${MASTER}` } })
    ).text();
    expect(metrics).toMatch(/semroute_shadow_total\{result="judge_nonsense"\} 1/);
  }, 120_000);
});
