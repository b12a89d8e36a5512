/**
 * `semroute serve --workers 2`: two processes on one port behind a primary. Both serve, /metrics
 * counts both, SIGHUP reloads both, a dead worker is replaced, SIGTERM stops everything, and a
 * config that cannot start fails the command instead of looping.
 */
import http from 'node:http';
import { availableParallelism } from 'node:os';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { HELP } from '../../src/cli/help.js';
import { parseProxyConfig } from '../../src/config/proxy-config.js';
import { parseYaml } from '../../src/config/yaml.js';
import { autoWorkers } from '../../src/server/workers.js';
import { tempDir } from '../helpers/encoder.js';
import { type ProxyProcess, startProxyProcess } from '../helpers/proxy-process.js';

const MASTER = 'sk-workers-master-1';
let upstream: FakeUpstream;
let dir: { dir: string; cleanup: () => Promise<void> };
let proxy: ProxyProcess;
let config: string;
let routerFile: string;

const routes = (extra: Array<{ name: string; utterances: string[] }> = []) => ({
  routes: [
    { name: 'coding', utterances: ['how do I write a python function', 'fix this javascript bug'] },
    ...extra,
  ],
});

const yaml = (groups: string[]) => `
model_list:
${[...groups, 'coding', 'weather'].map((g) => `  - model_name: ${g}\n    litellm_params: { model: openai/${g}, api_base: ${upstream.url}, api_key: sk-up }`).join('\n')}
  - model_name: auto_router1
    litellm_params: { model: auto_router/a, auto_router_config_path: ${routerFile}, auto_router_default_model: first }
general_settings:
  master_key: ${MASTER}
`;

/** A request on a connection of its own (no keep-alive), so the cluster may hand it to either worker. */
function fresh(url: string, method = 'GET', json?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${MASTER}` };
    if (json !== undefined) headers['content-type'] = 'application/json';
    const req = http.request(url, { method, agent: false, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(json === undefined ? undefined : JSON.stringify(json));
  });
}
const getFresh = (url: string) => fresh(url);

async function pids(times: number): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let i = 0; i < times; i++) {
    const { body } = await getFresh(`${proxy.url}/health/readiness`);
    seen.add((JSON.parse(body) as { pid: number }).pid);
  }
  return seen;
}

const workerPids = () =>
  proxy
    .logs()
    .filter((l) => l.msg === 'worker listening')
    .map((l) => l.pid as number);

async function waitFor(check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out:\n${proxy.lines.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  upstream = await startFakeUpstream();
  dir = await tempDir();
  config = path.join(dir.dir, 'config.yaml');
  routerFile = path.join(dir.dir, 'router.json');
  await writeFile(routerFile, JSON.stringify(routes()));
  await writeFile(config, yaml(['first']));
  proxy = await startProxyProcess(config, { SEMROUTE_CACHE_DIR: path.join(dir.dir, 'cache') }, [
    '--workers',
    '2',
  ]);
}, 90_000);

afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
  await dir?.cleanup();
});

describe('semroute serve --workers 2', () => {
  it('starts two workers on one port, each saying its state is its own without Redis', async () => {
    // A worker logs "worker listening" just after the primary has seen it listen (and announced).
    await waitFor(() => new Set(workerPids()).size >= 2, 10_000);
    expect(new Set(workerPids()).size).toBe(2);
    const warnings = proxy.logs().filter((l) => String(l.msg).startsWith('each worker keeps its own'));
    expect(warnings).toHaveLength(2);
  });

  it('serves from both workers, and /metrics counts the requests of both', async () => {
    expect((await pids(40)).size).toBe(2);
    const client = new OpenAI({ apiKey: MASTER, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        client.chat.completions.create({ model: 'first', messages: [{ role: 'user', content: `q${i}` }] }),
      ),
    );
    expect(answers.map((a) => a.choices[0]?.message.content)).toEqual(
      Array.from({ length: 30 }, (_, i) => `echo: q${i}`),
    );
    // Whichever worker answers /metrics, the figure is the sum over both.
    for (let i = 0; i < 6; i++) {
      const { body } = await getFresh(`${proxy.url}/metrics`);
      expect(body).toMatch(/semroute_requests_total\{endpoint="chat",model="first",status="200"\} 30\n/);
    }
  });

  it('reloads every worker on SIGHUP to the primary', async () => {
    await writeFile(config, yaml(['first', 'second']));
    proxy.signal('SIGHUP');
    await waitFor(() => proxy.logs().filter((l) => l.msg === 'config reloaded').length >= 2);
    const reloaded = proxy.logs().filter((l) => l.msg === 'config reloaded');
    expect(new Set(reloaded.map((l) => l.pid))).toEqual(new Set(workerPids()));
    for (let i = 0; i < 10; i++) {
      const { body } = await getFresh(`${proxy.url}/v1/models`);
      expect(body).toContain('"second"');
    }
  });

  it('tells the other worker of a route-page save (the workers watch no files here)', async () => {
    const saved = await fresh(`${proxy.url}/ui/api/routers/auto_router1`, 'PUT', {
      config: routes([
        { name: 'weather', utterances: ['what is the weather in Paris', 'will it rain tomorrow'] },
      ]),
    });
    expect(saved.status).toBe(200);
    await waitFor(
      () =>
        proxy
          .logs()
          .filter((l) => l.msg === 'config reloaded' && String(l.reason).includes('route page save'))
          .length >= 2,
    );
    for (let i = 0; i < 10; i++) {
      const { body } = await fresh(`${proxy.url}/v1/route`, 'POST', {
        model: 'auto_router1',
        prompt: 'will it rain in Paris tomorrow',
      });
      expect(JSON.parse(body)).toMatchObject({ route: 'weather' });
    }
  });

  it('replaces a worker that dies, and keeps serving meanwhile', async () => {
    const [victim] = workerPids();
    process.kill(victim!, 'SIGKILL');
    await waitFor(() => workerPids().length === 3);
    expect(proxy.logs().some((l) => l.msg === 'worker exited' && l.worker === victim)).toBe(true);
    const alive = await pids(30);
    expect(alive.has(victim!)).toBe(false);
    expect(alive.size).toBe(2);
  });

  it('stops every worker and exits 0 on SIGTERM', async () => {
    const live = [...(await pids(20))];
    proxy.signal('SIGTERM');
    expect(await proxy.exited).toBe(0);
    for (const pid of live) expect(() => process.kill(pid, 0)).toThrow();
  });

  it('fails the command when the workers cannot start, instead of restarting them forever', async () => {
    const broken = path.join(dir.dir, 'broken.yaml');
    await writeFile(broken, 'model_list: [ {broken');
    await expect(startProxyProcess(broken, {}, ['--workers', '2'])).rejects.toThrow(
      /exited [1-9].*[\s\S]*worker failed before it listened/,
    );
  });
});

describe('semroute serve --workers auto (the default)', () => {
  const parse = (doc: string) => parseProxyConfig(parseYaml(doc, 'c.yaml'), { file: 'c.yaml', env: {} });
  const models = 'model_list:\n  - model_name: m\n    litellm_params: { model: openai/m, api_key: sk-x }\n';

  it('is one worker per core, and one when budgets or key limits would be counted per worker', () => {
    expect(autoWorkers(parse(models), 4)).toMatchObject({ workers: 4 });
    expect(autoWorkers(parse(models), 1)).toMatchObject({ workers: 1 });
    expect(autoWorkers(parse(models), 500)).toMatchObject({ workers: 64 });
    for (const limits of [
      'general_settings:\n  keys:\n    - { key: sk-tenant-1, max_budget: 5 }\n',
      'general_settings:\n  keys:\n    - { key: sk-tenant-1, rpm_limit: 10 }\n',
      'general_settings:\n  keys:\n    - { key: sk-tenant-1, max_parallel_requests: 2 }\n',
      'litellm_settings:\n  max_budget: 100\n',
    ]) {
      const chosen = autoWorkers(parse(models + limits), 4);
      expect(chosen.workers, limits).toBe(1);
      expect(chosen.why).toContain('Redis');
      // With Redis the counts are shared: every core again.
      const shared = `${models}${limits}router_settings:\n  redis_url: redis://127.0.0.1:6390\n`;
      expect(autoWorkers(parse(shared), 4).workers, limits).toBe(4);
    }
    // A key with only a model list limits nothing that is counted.
    expect(
      autoWorkers(parse(`${models}general_settings:\n  keys:\n    - { key: sk-tenant-1, models: [m] }\n`), 4)
        .workers,
    ).toBe(4);
  });

  it('starts as many workers as it says, and the help names it as the default', async () => {
    const auto = await startProxyProcess(config, { SEMROUTE_CACHE_DIR: path.join(dir.dir, 'cache') }, [
      '--workers',
      'auto',
    ]);
    try {
      const said = auto.logs().find((l) => l.msg === '--workers auto');
      expect(said?.workers).toBe(Math.min(64, availableParallelism()));
      // One worker runs in the command's own process (no primary, no "worker listening"). A
      // worker logs its line just after the primary has seen it listen: wait for the lines.
      const want = said!.workers === 1 ? 0 : (said!.workers as number);
      const listening = () => auto.logs().filter((l) => l.msg === 'worker listening').length;
      await waitFor(() => listening() >= want, 10_000);
      expect(listening()).toBe(want);
      const { body } = await fresh(`${auto.url}/health/readiness`);
      expect(JSON.parse(body)).toHaveProperty('pid');
    } finally {
      await auto.stop();
    }
    expect(HELP.serve).toMatch(/--workers N\|auto[^\n]*default\s+auto/);
  }, 90_000);
});
