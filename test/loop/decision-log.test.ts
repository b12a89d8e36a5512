/** The decision log's writer: whole lines, bounded, rotated, prompts only when asked. */
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../../src/gateway/context.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { DecisionLog, sha256 } from '../../src/loop/decision-log.js';
import { tempDir, useLitePool } from '../helpers/encoder.js';

let up: FakeUpstream;
let dir: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  [up, dir] = await Promise.all([startFakeUpstream(), tempDir()]);
});
afterAll(async () => {
  await up?.close();
  await dir?.cleanup();
});

const lines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

const config = () => ({
  model_list: [
    {
      model_name: 'cheap',
      litellm_params: { model: 'openai/cheap', api_base: up.url, api_key: 'k' },
      model_info: { input_cost_per_token: 1e-7, output_cost_per_token: 4e-7 },
    },
    {
      model_name: 'strong',
      litellm_params: { model: 'openai/strong', api_base: up.url, api_key: 'k' },
      model_info: { input_cost_per_token: 1e-5, output_cost_per_token: 4e-5 },
    },
    {
      model_name: 'router',
      litellm_params: {
        model: 'auto_router/r',
        auto_router_config: {
          routes: [{ name: 'strong', utterances: ['fix this bug in my code', 'write a python function'] }],
        },
        auto_router_default_model: 'cheap',
      },
    },
    {
      model_name: 'tiers',
      litellm_params: {
        model: 'auto_router/complexity_router',
        complexity_router_config: { tiers: { SIMPLE: 'cheap', COMPLEX: 'strong' } },
      },
    },
  ],
});

describe('the decision log', () => {
  it('writes one line per routed request of every kind, with the decision, what served it and its cost', async () => {
    const file = path.join(dir.dir, 'kinds.jsonl');
    const log = new DecisionLog({ path: file });
    const gw = await Gateway.create(config(), { events: log.listeners(), encoders: await useLitePool() });
    await gw.chatCompletion({
      model: 'router',
      messages: [{ role: 'user', content: 'fix this bug in my code please' }],
    });
    await gw.chatCompletion({ model: 'tiers', messages: [{ role: 'user', content: 'What is 2+2?' }] });
    await gw.chatCompletion({
      model: 'auto',
      models: ['cheap', 'strong'],
      messages: [{ role: 'user', content: 'hi' }],
    });
    // A group asked for by name is no decision: no line.
    await gw.chatCompletion({ model: 'cheap', messages: [{ role: 'user', content: 'hello' }] });
    const failed = await gw
      .chatCompletion({
        model: 'router',
        timeout: 0.001,
        messages: [{ role: 'user', content: 'write a python function' }],
      })
      .catch((e) => e);
    expect(failed).toBeInstanceOf(Error);
    log.close();
    const out = await lines(file);
    expect(out.map((l) => l.kind)).toEqual(['semantic', 'complexity', 'auto', 'semantic']);
    const [semantic, tier, auto, error] = out;
    expect(semantic).toMatchObject({
      type: 'decision',
      router: 'router',
      route: 'strong',
      group: 'strong',
      status: 200,
      reason: 'matched',
    });
    expect(semantic.margin).toBeGreaterThan(0);
    expect(semantic.cost_usd).toBeGreaterThan(0);
    expect(semantic.tokens).toMatchObject({ estimated: false });
    expect(semantic).not.toHaveProperty('prompt');
    expect(semantic.prompt_sha256).toBe(sha256('fix this bug in my code please'));
    expect(tier).toMatchObject({
      router: 'tiers',
      tier: 'SIMPLE',
      group: 'cheap',
      reason: 'heuristic_scorer',
    });
    expect(tier.prompt_sha256).toBe(sha256('What is 2+2?'));
    expect(tier.saved_usd).toBeGreaterThan(0);
    expect(auto).toMatchObject({ router: 'auto', group: 'cheap' });
    expect(auto.difficulty).toBeGreaterThanOrEqual(0);
    expect(error.status).toBe(500);
    for (const l of out) expect(l.id).toMatch(/^req_[0-9a-f]{24}$/);
    await gw.close();
  });

  it('keeps prompts and the conversation only with keep_prompts', async () => {
    const file = path.join(dir.dir, 'prompts.jsonl');
    const log = new DecisionLog({ path: file, keepPrompts: true });
    const gw = await Gateway.create(config(), { events: log.listeners(), encoders: await useLitePool() });
    const ctx = createContext({ endpoint: 'chat', id: 'trace-1', caller: { alias: 'team-a' } });
    const messages = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'What is 2+2?' },
    ];
    await gw.chatCompletion({ model: 'tiers', messages }, { context: ctx });
    log.close();
    const [line] = await lines(file);
    expect(line).toMatchObject({ id: 'trace-1', caller: 'team-a', prompt: 'What is 2+2?', messages });
    await gw.close();
  });

  it('never blocks: past its queue it drops lines and counts them', () => {
    const file = path.join(dir.dir, 'bounded.jsonl');
    const log = new DecisionLog({ path: file, queueLimit: 3, flushMs: 60_000 });
    const accepted = Array.from({ length: 5 }, (_, i) => log.append({ type: 'decision', i }));
    expect(accepted).toEqual([true, true, true, false, false]);
    expect(log.counts.dropped).toBe(2);
    log.close();
    expect(log.counts.written).toBe(3);
  });

  it('rotates by size, keeping one old file, and every line whole', async () => {
    const file = path.join(dir.dir, 'rotate.jsonl');
    const log = new DecisionLog({ path: file, maxBytes: 2_000, flushMs: 60_000 });
    for (let i = 0; i < 40; i++) {
      log.append({ type: 'decision', i, pad: 'x'.repeat(100) });
      if (i % 5 === 4) log.flush();
    }
    log.close();
    expect(log.counts.rotated).toBeGreaterThan(0);
    expect((await stat(file)).size).toBeLessThanOrEqual(2_000);
    const all = [...(await lines(`${file}.1`)), ...(await lines(file))];
    expect(all.length).toBeGreaterThan(0);
    for (const l of all) expect(l.type).toBe('decision');
  });

  it('appends to a log it finds, after a restart', async () => {
    const file = path.join(dir.dir, 'append.jsonl');
    await writeFile(file, `${JSON.stringify({ type: 'decision', before: true })}\n`);
    const log = new DecisionLog({ path: file });
    log.append({ type: 'decision', after: true });
    log.close();
    expect((await lines(file)).map((l) => Object.keys(l)[1])).toEqual(['before', 'after']);
  });
});
