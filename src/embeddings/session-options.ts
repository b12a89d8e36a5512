/** Options of the local ONNX encoders, apart from the runtime itself (public types never name it). */
import { availableParallelism } from 'node:os';
import { ErrorCode, SemrouteError } from '../errors.js';

export interface SessionOptions {
  /**
   * Threads inside one operator. Default min(2, cores): on the 2-core reference machine one
   * short sentence takes 1.2 ms with 2 threads against 2.1 ms with 1 (`npm run bench`).
   * Env: `SEMROUTE_ONNX_THREADS`.
   */
  threads?: number | undefined;
  /**
   * onnxruntime's CPU memory arena: it keeps the largest batch's buffers for reuse. Off by
   * default: a compile's batches grew `semroute serve` by ~45 MB for good, while one query runs
   * as fast without it. On, batches of 32 embed ~1.5× faster (large compiles, `semroute eval`).
   * router.json: `encoder_options.memory_arena`.
   */
  memoryArena?: boolean | undefined;
}

export function resolveThreads(options: SessionOptions): number {
  const fromEnv = Number(process.env.SEMROUTE_ONNX_THREADS);
  const threads =
    options.threads ??
    (Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.min(2, availableParallelism()));
  if (!Number.isInteger(threads) || threads < 1) {
    throw new SemrouteError(ErrorCode.INPUT_INVALID, `threads must be a positive integer, got ${threads}`, {
      path: 'threads',
      expected: 'integer >= 1',
    });
  }
  return threads;
}
