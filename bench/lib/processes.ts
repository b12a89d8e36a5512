/**
 * The processes of the load suites (proxy, peers, memory): starting a server and waiting for its
 * ready line, the load generator in its own process, and CPU and memory read from /proc for a
 * process with all its descendants (tsx's child, cluster workers).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LoadSpec, StepResult } from './loadgen.js';

export const TSX = path.resolve('node_modules/.bin/tsx');
export const ENTRY = path.resolve('bench/lib/cli-entry.ts');
const LOADGEN = path.resolve('bench/lib/loadgen.ts');
/** Preloaded into every bench process: it ends when this runner ends (src/internal/lifeline.ts). */
const LIFELINE = ['--import', path.resolve('bench/lib/lifeline.mjs')];

/** The environment of a child that must not outlive this runner. */
export function tiedEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, SEMROUTE_PARENT_PID: String(process.pid) };
}

/** Starts `command args` and resolves once its output matches `ready`. */
export function startProcess(
  command: string,
  args: string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    // Node programs (node itself, tsx) get the lifeline preloaded; semroute's CLI has its own.
    const node = command === process.execPath || command === TSX;
    const child = spawn(command, node ? [...LIFELINE, ...args] : args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: tiedEnv(env),
    });
    let out = '';
    const onData = (d: Buffer) => {
      // Keep the tail only: a server that logs every request must not grow this without end.
      out = (out + d.toString()).slice(-4000);
      if (ready.test(out)) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`process exited (${code}): ${out.slice(-500)}`)));
    setTimeout(() => reject(new Error(`not ready in 60 s: ${out.slice(-500)}`)), 60_000).unref();
  });
}

/** Stops a child and waits until it has exited (its port is free again). */
export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A script run with tsx (the CLI entry by default) until its output matches `ready`. */
export function start(args: string[], ready: RegExp, script = ENTRY): Promise<ChildProcess> {
  return startProcess(TSX, [script, ...args], ready);
}

interface ProcStat {
  ppid: number;
  cpu: number;
  rssPages: number;
}

async function procStats(): Promise<Map<number, ProcStat>> {
  const stats = new Map<number, ProcStat>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const text = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid … utime stime … rss: comm may hold spaces, so count fields after ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (fields.length < 22) continue;
    stats.set(Number(entry), {
      ppid: Number(fields[1]),
      cpu: (Number(fields[11]) + Number(fields[12])) / 100,
      rssPages: Number(fields[21]),
    });
  }
  return stats;
}

async function sumTree(root: number, field: (s: ProcStat) => number): Promise<number | undefined> {
  if (process.platform !== 'linux') return undefined;
  const stats = await procStats();
  let total = 0;
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    const own = stats.get(pid);
    if (own !== undefined) total += field(own);
    for (const [child, s] of stats) if (s.ppid === pid) queue.push(child);
  }
  return total;
}

/** CPU seconds (user + system) used so far by a process and its descendants. Undefined off Linux. */
export function treeCpuSeconds(root: number): Promise<number | undefined> {
  return sumTree(root, (s) => s.cpu);
}

/** Resident memory of one process, in MB (4 KiB pages). Undefined off Linux. */
export async function rssMb(pid: number): Promise<number | undefined> {
  if (process.platform !== 'linux') return undefined;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return kb ? Number(kb[1]) / 1024 : undefined;
}

/** Runs bench/lib/loadgen.ts in its own process and returns its steps. */
export function load(spec: LoadSpec): Promise<StepResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [...LIFELINE, LOADGEN], { stdio: ['pipe', 'pipe', 'pipe'], env: tiedEnv() });
    child.stdin!.end(JSON.stringify(spec));
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && line.startsWith('[')) resolve(JSON.parse(line) as StepResult[]);
      else reject(new Error(`load generator failed (${code}): ${err.slice(-500)}`));
    });
  });
}

/** CPU per request of `pid`, in µs, while `spec` runs once at `rate` (after the caller's warm-up). */
export async function cpuPerRequest(pid: number, spec: LoadSpec, rate: number): Promise<number | undefined> {
  const before = await treeCpuSeconds(pid);
  const [measured] = await load({ ...spec, rates: [rate], warmupSeconds: 0.2, repeats: 1 });
  const after = await treeCpuSeconds(pid);
  if (before === undefined || after === undefined || !measured) return undefined;
  // The 0.2 s warm-up's requests ran inside the window too.
  return ((after - before) * 1e6) / (measured.sent + Math.round(spec.warmupRate * 0.2));
}
