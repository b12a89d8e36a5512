/**
 * The command line's cold start: `semroute route <router.json> "<text>"` as its own process,
 * as a user runs it, with the artefact already compiled. CPU (user + system, the process and
 * its threads, from bash's `time`) and wall time, p50 of 10 runs, each paired with a run of
 * `node -e 0` (node's own start, the yardstick: the ratio is what moves little between
 * machines). Linux and bash only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BenchContext, row } from './lib/context.js';
import { type ResultRow, summarize } from './lib/report.js';

const BIN = path.resolve('bin/semroute.js');

/** One run: [cpu ms, wall ms], and what it printed. */
function timed(args: string[], env: NodeJS.ProcessEnv): { cpuMs: number; wallMs: number; stdout: string } {
  const quoted = args.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
  const script = `TIMEFORMAT='%3U %3S %3R'; { time node ${quoted} > "$OUT"; } 2>&1`;
  const out = path.join(env.SEMROUTE_CACHE_DIR!, 'out.txt');
  const timing = execFileSync('bash', ['-c', script], { env: { ...env, OUT: out }, encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1)!;
  const [user, system, real] = timing.split(' ').map(Number);
  const stdout = execFileSync('cat', [out], { encoding: 'utf8' });
  return { cpuMs: (user! + system!) * 1000, wallMs: real! * 1000, stdout };
}

export async function cliSuite(ctx: BenchContext): Promise<ResultRow[]> {
  if (process.platform !== 'linux') {
    ctx.log('  cli: skipped (needs Linux and bash)');
    return [];
  }
  const cacheDir = await mkdtemp(path.join(tmpdir(), 'semroute-bench-cli-'));
  const env = { ...process.env, SEMROUTE_CACHE_DIR: cacheDir };
  try {
    const args = [BIN, 'route', 'routes/assistant.json', '--json', 'how do I reverse a list in python'];
    // The first run compiles and saves the artefact; it is not what is measured.
    const first = timed(args, env);
    if (JSON.parse(first.stdout).route !== 'coding')
      throw new Error(`cli sanity check failed: ${first.stdout}`);
    // In turn, so that a drift in the machine's speed moves both sides of each ratio.
    const runs: Array<ReturnType<typeof timed>> = [];
    const bare: Array<ReturnType<typeof timed>> = [];
    for (let i = 0; i < 10; i++) {
      runs.push(timed(args, env));
      bare.push(timed(['-e', '0'], env));
    }
    const cpu = summarize(runs.map((r) => r.cpuMs));
    const wall = summarize(runs.map((r) => r.wallMs));
    const node = summarize(bare.map((r) => r.cpuMs));
    const ratio = summarize(runs.map((r, i) => r.cpuMs / Math.max(bare[i]!.cpuMs, 1)));
    ctx.log(
      `  semroute route (compiled): CPU p50 ${cpu.p50.toFixed(0)} ms (${ratio.p50.toFixed(2)}× node -e 0, ${node.p50.toFixed(0)} ms), wall p50 ${wall.p50.toFixed(0)} ms (first run, compiling: ${first.cpuMs.toFixed(0)} ms CPU)`,
    );
    return [
      row('cli', 'semroute route, artefact compiled: CPU (user + system)', 'ms', cpu, {
        firstRunCpuMs: first.cpuMs,
      }),
      row('cli', 'node -e 0: CPU (user + system), paired with each route run', 'ms', node),
      row('cli', 'semroute route CPU / node -e 0 CPU (pair by pair)', 'ratio', ratio),
      row('cli', 'semroute route, artefact compiled: wall', 'ms', wall, { firstRunWallMs: first.wallMs }),
      row(
        'cli',
        'semroute --version: wall',
        'ms',
        summarize(Array.from({ length: 10 }, () => timed([BIN, '--version'], env).wallMs)),
      ),
    ];
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}
