/**
 * Open-loop HTTP/1.1 load in its own process, kept cheap so it takes little of the CPU that the
 * proxy and the upstream share with it: raw keep-alive sockets, request bytes built up front,
 * and a response parser that reads only the status line and the body's framing.
 *
 * Latency runs from the moment a request is handed over, so time spent waiting for a free
 * connection counts (no coordinated omission). Run: `tsx bench/lib/loadgen.ts < spec.json`; prints one JSON
 * line per rate step.
 */
import net from 'node:net';

export interface LoadSpec {
  host: string;
  port: number;
  path: string;
  /** Request bodies, sent in turn. */
  bodies: string[];
  /** More request headers (a peer gateway takes its upstream and retry policy in headers). */
  headers?: Record<string, string> | undefined;
  rates: number[];
  seconds: number;
  warmupRate: number;
  warmupSeconds: number;
  connections: number;
  /** Stop after the first step whose p99 exceeds this (ms): higher rates only queue. */
  stopAboveMs: number;
  /**
   * Trials per rate; the step reports the median trial. On a shared machine one stall of the
   * whole VM decides a p99 over a few seconds; the median trial is what the machine sustains.
   */
  repeats: number;
}

export interface StepResult {
  rate: number;
  sent: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  /** p99 of each trial, in order. */
  trialsP99: number[];
}

interface Pending {
  due: number;
  index: number;
}

/** One keep-alive connection carrying one request at a time. */
class Connection {
  private buffer = '';
  private current: Pending | undefined;
  private socket: net.Socket;

  constructor(
    private readonly spec: LoadSpec,
    private readonly requests: Buffer[],
    private readonly done: (p: Pending, ok: boolean) => void,
    private readonly onIdle: (c: Connection) => void,
  ) {
    this.socket = this.connect();
  }

  private connect(): net.Socket {
    const socket = net.connect({ host: this.spec.host, port: this.spec.port, noDelay: true });
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => this.fail());
    socket.on('close', () => {
      this.fail();
      this.socket = this.connect();
      this.onIdle(this);
    });
    return socket;
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  send(p: Pending): void {
    this.current = p;
    this.buffer = '';
    this.socket.write(this.requests[p.index % this.requests.length]!);
  }

  private fail(): void {
    const p = this.current;
    this.current = undefined;
    if (p) this.done(p, false);
  }

  /** Complete when the headers are in and the body's length (or the chunked terminator) has arrived. */
  private onData(chunk: string): void {
    if (!this.current) return;
    this.buffer += chunk;
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buffer.slice(0, end).toLowerCase();
    const length = /\r\ncontent-length: *(\d+)/.exec(head);
    const complete = length
      ? this.buffer.length - end - 4 >= Number(length[1])
      : this.buffer.endsWith('\r\n0\r\n\r\n');
    if (!complete) return;
    const ok = head.startsWith('http/1.1 200');
    const p = this.current;
    this.current = undefined;
    this.done(p, ok);
    this.onIdle(this);
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.destroy();
  }
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

export async function runLoad(spec: LoadSpec): Promise<StepResult[]> {
  const requests = spec.bodies.map((body) =>
    Buffer.from(
      `POST ${spec.path} HTTP/1.1\r\nhost: ${spec.host}:${spec.port}\r\ncontent-type: application/json\r\n` +
        Object.entries(spec.headers ?? {})
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('') +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    ),
  );
  let latencies: number[] = [];
  let errors = 0;
  let outstanding = 0;
  let settled: (() => void) | undefined;
  const queue: Pending[] = [];
  const done = (p: Pending, ok: boolean) => {
    if (ok) latencies.push(performance.now() - p.due);
    else errors++;
    if (--outstanding === 0) settled?.();
  };
  const onIdle = (c: Connection) => {
    const next = queue.shift();
    if (next) c.send(next);
  };
  const pool = Array.from({ length: spec.connections }, () => new Connection(spec, requests, done, onIdle));
  let counter = 0;

  const step = async (rate: number, seconds: number): Promise<StepResult> => {
    latencies = [];
    errors = 0;
    const total = Math.round(rate * seconds);
    const interval = 1000 / rate;
    const started = performance.now();
    for (let i = 0; i < total; i++) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      outstanding++;
      // From when it was handed over (not `due`: a request may go out up to 1 ms early).
      const p = { due: performance.now(), index: counter++ };
      const free = pool.find((c) => !c.busy);
      if (free) free.send(p);
      else queue.push(p);
    }
    if (outstanding > 0) await new Promise<void>((r) => (settled = r));
    settled = undefined;
    const sorted = latencies.sort((a, b) => a - b);
    const p99 = percentile(sorted, 0.99);
    return {
      rate,
      sent: total,
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99,
      max: sorted.at(-1) ?? Number.NaN,
      errors,
      trialsP99: [p99],
    };
  };

  /** `repeats` trials at one rate: the median trial's figures, every trial's p99, all errors. */
  const trials = async (rate: number): Promise<StepResult> => {
    const runs: StepResult[] = [];
    for (let i = 0; i < Math.max(1, spec.repeats); i++) runs.push(await step(rate, spec.seconds));
    const median = [...runs].sort((a, b) => a.p99 - b.p99)[Math.floor((runs.length - 1) / 2)]!;
    return {
      ...median,
      sent: runs.reduce((n, r) => n + r.sent, 0),
      errors: runs.reduce((n, r) => n + r.errors, 0),
      max: Math.max(...runs.map((r) => r.max)),
      trialsP99: runs.map((r) => r.p99),
    };
  };

  // Warm-up (JIT, connections, first GCs) long enough that the first step measures steady state.
  await step(spec.warmupRate, spec.warmupSeconds);
  const results: StepResult[] = [];
  for (const rate of spec.rates) {
    const result = await trials(rate);
    results.push(result);
    if (result.p99 > spec.stopAboveMs) break;
  }
  for (const c of pool) c.close();
  return results;
}

if (process.argv[1]?.endsWith('loadgen.ts')) {
  // The spec comes on stdin: thousands of bodies overflow an argument list (E2BIG).
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const spec = JSON.parse(Buffer.concat(chunks).toString('utf8')) as LoadSpec;
  const results = await runLoad(spec);
  process.stdout.write(`${JSON.stringify(results)}\n`);
}
