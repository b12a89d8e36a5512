/**
 * Micro-benchmarks through tinybench: warm-up, then at least `iterations` runs (and at least
 * `time` ms), latency statistics from tinybench's own samples.
 */
import { Bench } from 'tinybench';

export interface Stats {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  /** Raw latencies in ms, when asked for. */
  samples?: readonly number[];
}

/** Runs `fn` and returns its latency in ms (scale by `unit` for µs). */
export async function micro(
  name: string,
  fn: () => unknown,
  options: { iterations: number; time?: number; warmup?: number; samples?: boolean },
): Promise<Stats> {
  const bench = new Bench({
    iterations: options.iterations,
    time: options.time ?? 0,
    warmup: true,
    warmupIterations: options.warmup ?? Math.min(200, Math.ceil(options.iterations / 5)),
    warmupTime: 0,
    throws: true,
    retainSamples: options.samples ?? false,
  });
  bench.add(name, fn as () => Promise<void>);
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (result.state !== 'completed') throw new Error(`benchmark ${name} ended ${result.state}`);
  const { latency } = result;
  return {
    n: latency.samplesCount,
    p50: latency.p50,
    p99: latency.p99,
    mean: latency.mean,
    ...(latency.samples ? { samples: [...latency.samples] } : {}),
  };
}

export function scaled(s: Stats, factor: number): Stats {
  return { n: s.n, p50: s.p50 * factor, p99: s.p99 * factor, mean: s.mean * factor };
}
