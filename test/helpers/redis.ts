/**
 * A real redis-server for tests, on a free loopback port, with no persistence. `.ci/run`
 * installs it from Debian's packages; a missing binary fails the tests with that instruction.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { spawnTied } from './tied.js';

export interface TestRedis {
  port: number;
  url: string;
  /** A plain client for inspecting keys. */
  client: Redis;
  /** Stops the server (SIGTERM, waits for exit). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function assertInstalled(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      'redis-server is not installed; the Redis tests need it (Debian: apt-get install redis-server; .ci/run does this)',
    );
  }
}

async function waitForPing(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer in 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      probe.disconnect();
    }
  }
}

export async function startRedis(): Promise<TestRedis> {
  assertInstalled();
  const port = await freePort();
  let child: ChildProcess | undefined;
  const launch = async () => {
    // Tied: a test process killed mid-run leaves no redis-server behind.
    child = spawnTied(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: 'ignore' },
    );
    await waitForPing(port, child);
  };
  await launch();
  const client = new Redis({ port, host: '127.0.0.1', retryStrategy: () => 100 });
  client.on('error', () => {});
  const stop = async () => {
    const running = child;
    if (running === undefined || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGTERM');
    await exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client,
    stop,
    start: launch,
    async close() {
      client.disconnect();
      await stop();
    },
  };
}
