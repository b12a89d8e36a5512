/**
 * The default int8 model on a CPU without VNNI, where onnxruntime's u8 × s8 kernels saturate:
 * the same corpus embedded natively and under qemu's user-mode emulation of an AVX2-only AMD
 * EPYC (Rome), which makes onnxruntime pick its AVX2 kernels whatever the host has. Both must
 * stay within cosine 0.999 of fp32, and agree with each other.
 * Needs `qemu-x86_64` (Debian: qemu-user; `.ci/run` installs it). Slow: about two minutes.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { UseLiteEncoder } from '../../src/embeddings/use-lite/encoder.js';

const run = promisify(execFile);
const CORPUS = 'test/fixtures/parity-sentences.json';
const CHILD = 'test/slow/embed-corpus.mjs';

interface Embedded {
  id: string;
  precision: { active: string; probeCosine: number };
  rows: number[][];
}

async function embed(prefix: string[]): Promise<Embedded> {
  const [cmd, ...args] = [...prefix, process.execPath, CHILD, CORPUS];
  const { stdout } = await run(cmd!, args, { maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(stdout) as Embedded;
}

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let dot = 0;
  for (let d = 0; d < a.length; d++) dot += a[d]! * b[d]!;
  return dot;
};

let native: Embedded;
let emulated: Embedded;
let fp32: Float32Array[];

beforeAll(async () => {
  const which = await run('sh', ['-c', 'command -v qemu-x86_64']).catch(() => undefined);
  if (!which) throw new Error('qemu-x86_64 is not installed (Debian: apt-get install qemu-user)');
  const encoder = await UseLiteEncoder.load({ precision: 'fp32', build: false });
  const { sentences } = JSON.parse(await readFile(CORPUS, 'utf8')) as { sentences: string[] };
  [native, emulated, fp32] = await Promise.all([
    embed([]),
    embed(['qemu-x86_64', '-cpu', 'EPYC-Rome']),
    encoder.embed(sentences),
  ]);
  await encoder.close();
});

describe('the int8 default model on an AVX2-only CPU (emulated)', () => {
  it('the u8 × s8 saturation is really there on the emulated CPU', async () => {
    // A [1, 64] × [64, 16] MatMulInteger whose exact result needs no saturation only with VNNI.
    const { stdout } = await run('qemu-x86_64', [
      '-cpu',
      'EPYC-Rome',
      process.execPath,
      'test/slow/saturation.mjs',
    ]);
    const { u8s8, u8u8, exact } = JSON.parse(stdout);
    expect(u8s8).toBeLessThan(exact.u8s8);
    expect(u8u8).toBe(exact.u8u8);
  });

  it('uses int8 there: its load-time probe passes', () => {
    expect(emulated.precision.active).toBe('int8');
    expect(emulated.precision.probeCosine).toBeGreaterThanOrEqual(0.999);
    expect(emulated.id).toBe(native.id);
  });

  it('embeds every sentence within cosine 0.999 of fp32, and as the host does', () => {
    expect(emulated.rows).toHaveLength(fp32.length);
    const toFp32 = emulated.rows.map((row, i) => cosine(row, fp32[i]!));
    expect(Math.min(...toFp32)).toBeGreaterThanOrEqual(0.999);
    // Integer kernels exact on both; only fp32 rounding in the other layers differs.
    const toNative = emulated.rows.map((row, i) => cosine(row, native.rows[i]!));
    expect(Math.min(...toNative)).toBeGreaterThan(0.99999);
  });
});
