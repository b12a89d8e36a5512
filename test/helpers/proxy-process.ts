/** `semroute serve` as its own process (the built bin), as users run it: for multi-instance tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis.js';
import { tiedEnv } from './tied.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/semroute.js');

export interface ProxyProcess {
  url: string;
  /** Every line the process printed (pino JSON on stdout, anything on stderr). */
  lines: string[];
  logs(): Array<Record<string, unknown>>;
  /** Sends a signal (SIGHUP reloads, SIGTERM drains and exits). */
  signal(name: NodeJS.Signals): void;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export async function startProxyProcess(
  config: string,
  env: NodeJS.ProcessEnv = {},
  args: string[] = [],
): Promise<ProxyProcess> {
  const port = await freePort();
  // One process unless a test asks for workers: `--workers auto` (the default) has its own tests.
  const workers = args.some((a) => a === '--workers' || a === '--num_workers') ? [] : ['--workers', '1'];
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, 'serve', '--config', config, '--port', String(port), '--no-watch', ...workers, ...args],
    // Tied (SEMROUTE_PARENT_PID): a test process killed mid-run leaves no server behind.
    { env: tiedEnv({ ...process.env, ...env }), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const collect = (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`semroute serve exited ${child.exitCode}:\n${lines.join('\n')}`);
    // Printed once every worker listens (with --workers, by the primary).
    if (lines.some((l) => l.includes('"semroute proxy listening"'))) break;
    if (Date.now() > deadline) {
      // Not left running behind a failed test (with --workers, the workers follow the primary).
      child.kill('SIGKILL');
      throw new Error(`semroute serve did not start in 60 s:\n${lines.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    lines,
    logs: () =>
      lines.flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    signal: (name) => void child.kill(name),
    exited,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
