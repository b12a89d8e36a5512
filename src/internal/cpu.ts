/**
 * The CPU features that decide which integer kernels onnxruntime runs: printed by `semroute
 * models list` and the bench, so a figure always says which machine class produced it.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Flags that change onnxruntime's x86 int8 and fp32 kernels. */
const KERNEL_FLAGS = ['avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx_vnni', 'amx_int8'] as const;

export interface CpuFeatures {
  model: string;
  /** Which of KERNEL_FLAGS the CPU lists (Linux `/proc/cpuinfo`); empty elsewhere. */
  flags: string[];
  /** VNNI present: int8 dot products in one instruction (u8 × s8 without 16-bit saturation). */
  vnni: boolean;
}

export function cpuFeatures(): CpuFeatures {
  let listed = new Set<string>();
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = /^flags\s*:(.*)$/m.exec(info)?.[1] ?? '';
    listed = new Set(line.trim().split(/\s+/));
  } catch {
    // Not Linux: the model name alone.
  }
  const flags = KERNEL_FLAGS.filter((f) => listed.has(f));
  return {
    model: cpus()[0]?.model ?? 'unknown',
    flags,
    vnni: flags.includes('avx512_vnni') || flags.includes('avx_vnni'),
  };
}
