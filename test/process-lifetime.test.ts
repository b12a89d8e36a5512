/**
 * Nothing outlives its run: every process a test helper or the bench starts ends when the
 * process that started it ends, even by SIGKILL (when no exit handler runs). Each run marks its
 * processes with an environment variable, and /proc tells which ones are still there.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/encoder.js';

const TSX = path.resolve('node_modules/.bin/tsx');

/** Live processes whose environment holds this run's mark, with their command lines. */
async function marked(mark: string): Promise<Array<{ pid: number; ppid: number; cmd: string }>> {
  const out: Array<{ pid: number; ppid: number; cmd: string }> = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (!environ.includes(`SEMROUTE_TEST_MARK=${mark}`)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // A zombie has ended: only its parent has yet to read its status.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || stat === '') continue;
    const cmd = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    out.push({ pid: Number(entry), ppid: Number(fields[1]), cmd: cmd.trim() });
  }
  return out;
}

function launch(args: string[], mark: string): { child: ChildProcess; output: () => string } {
  const child = spawn(TSX, args, {
    env: { ...process.env, SEMROUTE_TEST_MARK: mark },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  return { child, output: () => text };
}

describe.skipIf(process.platform !== 'linux')('processes end with whoever started them', () => {
  it('a test harness killed with SIGKILL: its redis-server and semroute serve follow it', async () => {
    const mark = randomUUID();
    const dir = await tempDir();
    try {
      const { output } = launch(['test/fixtures/harness/servers.ts', dir.dir], mark);
      await expect.poll(output, { timeout: 90_000, interval: 100 }).toMatch(/ready \d+/);
      const harness = Number(/ready (\d+)/.exec(output())![1]);
      const before = await marked(mark);
      expect(before.some((p) => p.cmd.includes('redis-server'))).toBe(true);
      expect(before.some((p) => p.cmd.includes('semroute.js serve'))).toBe(true);
      process.kill(harness, 'SIGKILL');
      await expect
        .poll(async () => (await marked(mark)).map((p) => p.cmd), { timeout: 60_000, interval: 200 })
        .toEqual([]);
    } finally {
      for (const p of await marked(mark)) process.kill(p.pid, 'SIGKILL');
      await dir.cleanup();
    }
  });

  it.each([
    [
      'the bench runner',
      (tree: Array<{ pid: number; ppid: number }>, launcher: number) =>
        tree.find((p) => p.ppid === launcher)!.pid,
    ],
    ['its launcher (tsx, as npm run bench starts it)', (_: unknown, launcher: number) => launcher],
  ] as const)(
    'a bench killed with SIGKILL mid-run (%s): its upstream, proxies and load generator follow it',
    async (_, victim) => {
      const mark = randomUUID();
      const dir = await tempDir();
      try {
        const { child } = launch(['bench/run.ts', '--only', 'proxy', '--quick', '--out', dir.dir], mark);
        // The proxy suite starts a fake upstream, two semroute proxies and the bare proxy.
        await expect
          .poll(async () => (await marked(mark)).filter((p) => p.cmd.includes('cli-entry.ts')).length, {
            timeout: 120_000,
            interval: 200,
          })
          .toBeGreaterThanOrEqual(3);
        process.kill(victim(await marked(mark), child.pid!), 'SIGKILL');
        await expect
          .poll(async () => (await marked(mark)).map((p) => p.cmd), { timeout: 60_000, interval: 200 })
          .toEqual([]);
      } finally {
        for (const p of await marked(mark)) process.kill(p.pid, 'SIGKILL');
        await dir.cleanup();
      }
    },
  );
});
