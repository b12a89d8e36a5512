/** `semroute check` and `serve --check` against fake upstreams: one healthy deployment, one broken. */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { tempDir } from '../helpers/encoder.js';
import { freePort } from '../helpers/redis.js';
import { tiedEnv } from '../helpers/tied.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/semroute.js');
let upstream: FakeUpstream;
let tmp: { dir: string; cleanup: () => Promise<void> };
let config: string;

beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKeys: ['sk-right'], models: ['gpt-4o', 'text-embedding-3-small'] });
  tmp = await tempDir();
  config = path.join(tmp.dir, 'config.yaml');
  await writeFile(
    config,
    `model_list:
  - model_name: healthy
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-right }
  - model_name: embed
    litellm_params: { model: openai/text-embedding-3-small, api_base: ${upstream.url}, api_key: sk-right }
    model_info: { mode: embedding }
  - model_name: no-v1
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url.replace(/\/v1$/, '')}, api_key: sk-right }
`,
  );
});
afterAll(async () => {
  await upstream?.close();
  await tmp?.cleanup();
});

async function semroute(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      timeout: 60_000,
      env: tiedEnv(),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('semroute check', () => {
  it('calls every deployment once, prints a table and each failure with a hint, and exits 1', async () => {
    const before = upstream.requests.length;
    const { code, stdout } = await semroute('check', '--config', config);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^group\s+deployment\s+provider\s+url\s+status\s+ms/);
    expect(stdout).toMatch(/healthy\s+\S+\s+openai\s+\S+\s+ok/);
    expect(stdout).toMatch(/no-v1\s+\S+\s+openai\s+\S+\s+HTTP 404/);
    expect(stdout).toContain('hint: api_base');
    expect(stdout).toContain('2 of 3 deployment(s) answered');
    const sent = upstream.requests.slice(before);
    expect(sent.some((r) => r.url === '/v1/embeddings')).toBe(true);
    expect(
      sent.some(
        (r) => r.url === '/v1/chat/completions' && (r.body as { max_tokens?: number }).max_tokens === 1,
      ),
    ).toBe(true);
  });

  it('--json gives one row per deployment; --probe models spends no tokens', async () => {
    const before = upstream.requests.length;
    const { code, stdout } = await semroute('check', '--config', config, '--probe', 'models', '--json');
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report.deployments).toHaveLength(3);
    expect(report.failed).toBe(1);
    expect(report.deployments.find((d: { group: string }) => d.group === 'no-v1')).toMatchObject({
      ok: false,
      status: 404,
    });
    expect(upstream.requests.slice(before).every((r) => r.method === 'GET')).toBe(true);
  });

  it('serve --check stops before listening when a deployment fails', async () => {
    const port = await freePort();
    const { code, stdout } = await semroute(
      'serve',
      '--config',
      config,
      '--check',
      '--port',
      String(port),
      '--no-watch',
    );
    expect(code).toBe(1);
    expect(stdout).toContain('2 of 3 deployment(s) answered');
    expect(stdout).not.toContain('listening');
  });
});
