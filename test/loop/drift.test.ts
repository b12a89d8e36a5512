/**
 * Drift through a real proxy: traffic the routes do not catch is logged, clustered by meaning and
 * turned into proposals; the metrics show score, margin and outcome per route. And the log
 * survives the proxy being killed mid-traffic without a torn line.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers/encoder.js';
import { startProxyProcess } from '../helpers/proxy-process.js';
import { tiedEnv } from '../helpers/tied.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/semroute.js');
const MASTER = 'sk-drift-master-000000001';
let up: FakeUpstream;
let dir: { dir: string; cleanup: () => Promise<void> };

const config = (upstream: string) => `
model_list:
  - { model_name: general, litellm_params: { model: openai/general, api_base: ${upstream}, api_key: k } }
  - { model_name: coding, litellm_params: { model: openai/coding, api_base: ${upstream}, api_key: k } }
  - { model_name: weather, litellm_params: { model: openai/weather, api_base: ${upstream}, api_key: k } }
  - model_name: router
    litellm_params: { model: auto_router/r, auto_router_config_path: router.json, auto_router_default_model: general }
general_settings:
  master_key: ${MASTER}
  decision_log: { path: decisions.jsonl, keep_prompts: true }
`;

beforeAll(async () => {
  [up, dir] = await Promise.all([startFakeUpstream(), tempDir()]);
  await writeFile(
    path.join(dir.dir, 'router.json'),
    JSON.stringify({
      routes: [
        {
          name: 'coding',
          utterances: [
            'fix this bug in my code',
            'write a python function',
            'how do I reverse a list in javascript',
          ],
        },
        {
          name: 'weather',
          utterances: ['will it rain tomorrow', 'what is the weather like today', 'is it cold outside'],
        },
      ],
    }),
  );
  await writeFile(path.join(dir.dir, 'config.yaml'), config(up.url));
}, 60_000);

afterAll(async () => {
  await up?.close();
  await dir?.cleanup();
});

const ask = (url: string, content: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'router', messages: [{ role: 'user', content }] }),
  }).then((r) => r.text());

describe('drift', () => {
  it('clusters what no route takes into a proposed route, and counts outcomes per route', async () => {
    const server = await serve({
      config: path.join(dir.dir, 'config.yaml'),
      port: 0,
      signals: false,
      watch: false,
      logger: false,
    });
    try {
      const recipes = [
        'how do I bake sourdough bread',
        'a recipe for chocolate cake',
        'how long do I boil an egg',
        'how to bake bread at home',
        'a simple cake recipe for beginners',
        'how do I make pancakes',
      ];
      for (const p of [...recipes, 'fix this bug in my code please', 'will it rain tomorrow in Paris'])
        await ask(server.url, p);
      server.loop.decisionLog!.flush();
      const metrics = await (
        await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${MASTER}` } })
      ).text();
      expect(metrics).toMatch(
        /semroute_route_outcomes_total\{router="router",reason="below_threshold"\} [1-9]/,
      );
      expect(metrics).toMatch(/semroute_route_margin_bucket\{le="1",router="router",route="coding"\} 1/);
      expect(metrics).toMatch(/semroute_route_score_count\{router="router",route="\(default\)"\} [1-9]/);
    } finally {
      await server.close();
    }
    const { stdout } = await run(
      process.execPath,
      [BIN, 'drift', '--log', path.join(dir.dir, 'decisions.jsonl'), '--min-size', '3', '--json'],
      { env: tiedEnv() },
    );
    const report = JSON.parse(stdout);
    expect(report.unrouted).toBeGreaterThanOrEqual(5);
    const biggest = report.clusters[0];
    expect(biggest.size).toBeGreaterThanOrEqual(3);
    expect(
      biggest.prompts.every((p: { text: string }) => /bake|cake|egg|bread|pancake|recipe/.test(p.text)),
    ).toBe(true);
    expect(biggest.proposal.utterances).toHaveLength(3);
    const text = await run(process.execPath, [BIN, 'drift', '--log', path.join(dir.dir, 'decisions.jsonl')], {
      env: tiedEnv(),
    });
    expect(text.stdout).toMatch(
      /proposal: (a new route "[a-z_]+"|add to route "[a-z]+") with:|proposal: add to route/,
    );
  });

  it('leaves no torn line when the proxy is killed with SIGKILL mid-traffic', async () => {
    const crashDir = path.join(dir.dir, 'crash');
    await import('node:fs/promises').then((fs) => fs.mkdir(crashDir));
    await writeFile(
      path.join(crashDir, 'router.json'),
      await readFile(path.join(dir.dir, 'router.json'), 'utf8'),
    );
    await writeFile(path.join(crashDir, 'config.yaml'), config(up.url));
    const proxy = await startProxyProcess(path.join(crashDir, 'config.yaml'), {
      SEMROUTE_CACHE_DIR: path.join(crashDir, 'cache'),
    });
    const file = path.join(crashDir, 'decisions.jsonl');
    const inFlight = Array.from({ length: 400 }, (_, i) =>
      ask(proxy.url, `request number ${i} about the weather`).catch(() => ''),
    );
    await expect
      .poll(async () => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).length, {
        timeout: 45_000,
        interval: 20,
      })
      .toBeGreaterThan(20);
    proxy.signal('SIGKILL');
    await proxy.exited;
    await Promise.all(inFlight);
    const text = await readFile(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.split('\n').filter(Boolean);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  });
});
