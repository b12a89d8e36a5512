/**
 * README stays true (issue #29): its CLI sample is what the command prints, its figures are
 * what the committed bench result files say (generated, never typed), its links lead somewhere,
 * and its serve walkthrough works as written in an empty folder.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { serve } from '../../src/server/serve.js';
import { figuresBlock } from '../../scripts/readme-figures.js';
import { tempDir } from '../helpers/encoder.js';
import { tiedEnv } from '../helpers/tied.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/semroute.js');
let readme: string;
let tmp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  [readme, tmp] = await Promise.all([readFile('README.md', 'utf8'), tempDir()]);
});
afterAll(() => tmp.cleanup());

/** The fenced block after `marker`. */
function blockAfter(marker: string): string {
  const at = readme.indexOf(marker);
  expect(at, `README has ${marker}`).toBeGreaterThanOrEqual(0);
  // The next block that opens (a fence with a language), not the close of the marker's own.
  const open = /```[a-z]+\n/g;
  open.lastIndex = at;
  const found = open.exec(readme);
  expect(found, `a block after ${marker}`).not.toBeNull();
  const start = (found?.index ?? 0) + (found?.[0].length ?? 0);
  return readme.slice(start, readme.indexOf('```', start)).trimEnd();
}

describe('README', () => {
  it('shows what `semroute route` prints for its sample prompt', async () => {
    const command = blockAfter('## Route a prompt');
    const [, file, prompt] = /npx semroute route (\S+) "([^"]+)"/.exec(command) ?? [];
    expect(file).toBeDefined();
    const { stdout } = await run(process.execPath, [BIN, 'route', file!, prompt!], {
      env: tiedEnv({ ...process.env, SEMROUTE_CACHE_DIR: path.join(tmp.dir, 'cache') }),
    });
    const shown = blockAfter('<!-- cli-sample').split('\n');
    const printed = stdout.trimEnd().split('\n');
    const until = shown.indexOf('  ...');
    expect(until).toBeGreaterThan(0);
    expect(printed.slice(0, until)).toEqual(shown.slice(0, until));
  });

  it('has the figures the bench result files give, generated', () => {
    const start = readme.indexOf('<!-- figures:begin');
    const end = readme.indexOf('<!-- figures:end -->') + '<!-- figures:end -->'.length;
    expect(readme.slice(start, end)).toBe(figuresBlock());
    // No figure typed outside the block: timings and sizes live in the generated table.
    const outside = readme.slice(0, start) + readme.slice(end);
    expect(outside).not.toMatch(/\d+(\.\d+)?\s?(ms|µs|minutes|MB)\b/);
  });

  it('links only to files that exist, and reads in ten minutes', () => {
    const links = [...readme.matchAll(/\]\(([^)#]+)\)/g)]
      .map((m) => m[1]!)
      .filter((l) => !/^https?:/.test(l));
    expect(links.length).toBeGreaterThan(10);
    for (const link of links) expect(existsSync(link), link).toBe(true);
    // About 2,000 words: a guide, the reference lives in docs/.
    expect(readme.split(/\s+/).length).toBeLessThan(2_200);
  });

  it('names only commands semroute has', async () => {
    const { stdout } = await run(process.execPath, [BIN, '--help']);
    for (const [, command] of readme.matchAll(/npx semroute ([a-z-]+)/g))
      expect(stdout, command).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it("serves as the walkthrough says: init in an empty folder, the fake upstream, the README's request", async () => {
    const dir = path.join(tmp.dir, 'project');
    await run(process.execPath, [BIN, 'init', '--dir', dir]);
    const upstream = await startFakeUpstream();
    const config = path.join(dir, 'config.yaml');
    // The walkthrough's upstream listens on 8001; this one on a free port.
    await writeFile(
      config,
      (await readFile(config, 'utf8')).replaceAll('http://127.0.0.1:8001/v1', upstream.url),
    );
    const server = await serve({ config, port: 0, signals: false, watch: false, logger: false });
    try {
      const curl = blockAfter('npx semroute serve --config config.yaml');
      const key = /Bearer ([^']+)'/.exec(curl)?.[1];
      const body = /-d '([^']+)'/.exec(curl)?.[1] ?? '(no -d in the curl block)';
      const answer = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-semroute-route')).toBe('coding');
      expect(((await answer.json()) as { model: string }).model).toBe('coding');
      // The cost-quality section's router, from the same starter config.
      const easy = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'smart-router',
          messages: [{ role: 'user', content: 'What is 2+2?' }],
        }),
      });
      expect(easy.headers.get('x-semroute-tier')).toBe('SIMPLE');
      expect(easy.headers.get('x-semroute-model')).toBe('general');
      expect(Number(easy.headers.get('x-semroute-saved-usd'))).toBeGreaterThan(0);
      // init never replaces what is there.
      const again = await run(process.execPath, [BIN, 'init', '--dir', dir]).then(
        () => 0,
        (e: { code: number }) => e.code,
      );
      expect(again).toBe(2);
    } finally {
      await server.close();
      await upstream.close();
    }
  });
});
