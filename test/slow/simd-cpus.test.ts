/**
 * The decision's WebAssembly kernels (dense lexical rows, row dots) on other CPUs: the same
 * script natively and under qemu's user-mode emulation of an AVX2-only AMD EPYC (Rome) and of a
 * Nehalem (SSE4.2, no AVX), so V8 compiles the kernels' SIMD for each. Every score must be the
 * same float64 bits: the WebAssembly spec fixes the arithmetic (no fused multiply-add), and this
 * checks that nothing of ours depends on the CPU. Needs `qemu-x86_64` (`.ci/run` installs it).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SCRIPT = 'test/slow/simd-kernels.mjs';

interface Printed {
  rows: string;
  dots: string;
  lexical: string;
  products: string;
}

async function scores(prefix: string[]): Promise<Printed> {
  const [cmd, ...args] = [...prefix, process.execPath, SCRIPT];
  const { stdout } = await run(cmd!, args, { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as Printed;
}

describe('the SIMD kernels on other CPUs (emulated)', () => {
  it('give the same bits natively, on an AVX2-only CPU and on one without AVX', async () => {
    const which = await run('sh', ['-c', 'command -v qemu-x86_64']).catch(() => undefined);
    if (!which) throw new Error('qemu-x86_64 is not installed (Debian: apt-get install qemu-user)');
    const [native, rome, nehalem] = await Promise.all([
      scores([]),
      scores(['qemu-x86_64', '-cpu', 'EPYC-Rome']),
      scores(['qemu-x86_64', '-cpu', 'Nehalem']),
    ]);
    // The fast path ran everywhere: a fallback to plain JavaScript would prove nothing here.
    for (const p of [native, rome, nehalem]) expect([p.rows, p.dots]).toEqual(['wasm', 'wasm']);
    expect(native.lexical.length).toBe(40 * 150 * 16);
    expect(rome).toEqual(native);
    expect(nehalem).toEqual(native);
  });
});
