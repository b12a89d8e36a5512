/** `semroute serve` as users run it: SIGHUP reloads the config, SIGTERM drains and exits 0. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { tempDir } from '../helpers/encoder.js';
import { type ProxyProcess, startProxyProcess } from '../helpers/proxy-process.js';

const MASTER = 'sk-serve-process-master-1';
let upstream: FakeUpstream;
let dir: { dir: string; cleanup: () => Promise<void> };
let proxy: ProxyProcess;
let config: string;

const yaml = (groups: string[]) => `
model_list:
${groups.map((g) => `  - model_name: ${g}\n    litellm_params: { model: openai/${g}, api_base: ${upstream.url}, api_key: sk-up }`).join('\n')}
general_settings:
  master_key: ${MASTER}
`;

async function models(): Promise<string[]> {
  const res = await fetch(`${proxy.url}/v1/models`, { headers: { authorization: `Bearer ${MASTER}` } });
  return ((await res.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
}

beforeAll(async () => {
  upstream = await startFakeUpstream();
  dir = await tempDir();
  config = path.join(dir.dir, 'config.yaml');
  await writeFile(config, yaml(['first']));
  // --no-watch (set by the helper): only the signal can reload.
  proxy = await startProxyProcess(config, { SEMROUTE_CACHE_DIR: path.join(dir.dir, 'cache') });
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
  await dir?.cleanup();
});

describe('semroute serve process', () => {
  it('reloads on SIGHUP, and keeps serving the old config when the new one is broken', async () => {
    expect(await models()).toContain('first');
    await writeFile(config, yaml(['first', 'second']));
    proxy.signal('SIGHUP');
    await expect.poll(models, { timeout: 45_000 }).toContain('second');
    // The signal reloaded it, not a file watch (the process runs with --no-watch).
    const reloads = () => proxy.logs().filter((l) => l.msg === 'config reloaded');
    // The log line follows the swap, through a pipe: wait for it rather than race it.
    await expect.poll(() => reloads().length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(reloads().map((l) => l.reason)).toEqual(['SIGHUP']);

    await writeFile(config, 'model_list: [ {');
    proxy.signal('SIGHUP');
    await expect
      .poll(() => proxy.logs().some((l) => String(l.msg).startsWith('config reload failed')), {
        timeout: 45_000,
      })
      .toBe(true);
    expect(await models()).toContain('second');
  });

  it('drains on SIGTERM: a request in flight finishes, then the process exits 0', async () => {
    upstream.behave({ latencyMs: 500 });
    const start = upstream.attempts;
    const inFlight = fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'first', messages: [{ role: 'user', content: 'finish me' }] }),
    });
    await expect.poll(() => upstream.attempts, { timeout: 45_000 }).toBeGreaterThan(start);
    proxy.signal('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(
      ((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message
        .content,
    ).toBe('echo: finish me');
    expect(await proxy.exited).toBe(0);
    upstream.behave({ latencyMs: 0 });
  });
});
