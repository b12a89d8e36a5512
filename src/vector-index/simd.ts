/**
 * Two WebAssembly SIMD kernels (two float64 lanes) for the decision's dense passes, where the
 * runtime has WebAssembly SIMD:
 * - `addRow(row, q, sums, n)`: `sums[i] += q · row[i]` for i < n (float32 row, float64 sums);
 * - `dotRows(matrix, d, query, list, count, out)`: `out[k] = matrix row list[k] · query`, with
 *   the four accumulators of `dotAt` (dot.ts) in the same order.
 * Each is the JavaScript loop it replaces, operation for operation in float64 and with no fused
 * multiply-add (WebAssembly has none), so the results are the same bits on every CPU and by
 * either path; callers keep the JavaScript loop for a runtime without SIMD. Written out by hand
 * from the WebAssembly core and SIMD specifications: a few hundred bytes are not worth a
 * toolchain. Addresses are byte offsets into the instance's memory.
 */

/**
 * The little of the WebAssembly API used here: TypeScript declares it in the DOM library only,
 * and @types/node 20 does not.
 */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
type WasmModule = object;
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

export interface SimdKernels {
  /** The instance's memory: at least the bytes asked for, never grown after, so views stay valid. */
  readonly buffer: ArrayBuffer;
  addRow(row: number, q: number, sums: number, n: number): void;
  dotRows(matrix: number, d: number, query: number, list: number, count: number, out: number): void;
}

let compiled: WasmModule | null | undefined;

/** A new instance with at least `bytes` of memory; undefined where WebAssembly SIMD is missing. */
export function simdKernels(bytes: number): SimdKernels | undefined {
  if (compiled === undefined) {
    const code = kernelBytes();
    compiled = wasm?.validate(code) === true ? new wasm.Module(code) : null;
  }
  if (compiled === null) return undefined;
  const { exports } = new wasm!.Instance(compiled);
  const memory = exports.memory as WasmMemory;
  const pages = Math.ceil(bytes / 65_536);
  const have = memory.buffer.byteLength / 65_536;
  if (pages > have) memory.grow(pages - have);
  return {
    buffer: memory.buffer,
    addRow: exports.addRow as SimdKernels['addRow'],
    dotRows: exports.dotRows as SimdKernels['dotRows'],
  };
}

/** Rounds a byte count up to a 16-byte boundary (where a kernel's next array starts). */
export const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const simd = (...op: number[]) => [0xfd, ...op];
const i32 = (n: number) => [0x41, ...sleb(n)];
/** `a + (b << shift)`, with a and b locals. */
const at = (a: number, b: number, shift: number) => [...get(a), ...get(b), ...i32(shift), 0x74, 0x6a];
/** `if (cond) break` out of the block around the current loop. */
const breakIf = (cond: number[]) => [...cond, 0x0d, 1];
const increment = (i: number, by: number) => [...get(i), ...i32(by), 0x6a, ...set(i)];
const loop = (body: number[]) => [0x02, 0x40, 0x03, 0x40, ...body, 0x0c, 0, 0x0b, 0x0b];
const zero128 = simd(0x0c, ...new Array(16).fill(0));
const I32_GE_U = 0x4f;
const I32_GT_U = 0x4b;

function addRowBody(): number[] {
  // Params: 0 row, 1 q, 2 sums, 3 n. Locals: 4 i (i32), 5 qq (v128).
  const rowAt = at(0, 4, 2);
  const sumAt = at(2, 4, 3);
  return [
    2,
    1,
    I32,
    1,
    V128,
    ...get(1),
    ...simd(0x14),
    ...set(5), // qq = f64x2.splat(q)
    ...loop([
      ...breakIf([...get(4), ...i32(2), 0x6a, ...get(3), I32_GT_U]), // i + 2 > n
      ...sumAt,
      ...sumAt,
      ...simd(0x00, 3, 0), // v128.load
      ...get(5),
      ...rowAt,
      ...simd(0x5d, 2, 0),
      ...simd(0x5f), // load64_zero, f64x2.promote_low_f32x4
      ...simd(0xf2, 0x01),
      ...simd(0xf0, 0x01), // f64x2.mul, f64x2.add
      ...simd(0x0b, 3, 0), // v128.store
      ...increment(4, 2),
    ]),
    // The odd last route: if (i < n) sums[i] += q · row[i].
    ...get(4),
    ...get(3),
    0x49,
    0x04,
    0x40,
    ...sumAt,
    ...sumAt,
    0x2b,
    3,
    0, // f64.load
    ...get(1),
    ...rowAt,
    0x2a,
    2,
    0,
    0xbb,
    0xa2, // q · f64.promote_f32(f32.load)
    0xa0,
    0x39,
    3,
    0, // f64.add, f64.store
    0x0b,
    0x0b,
  ];
}

function dotRowsBody(): number[] {
  // Params: 0 matrix, 1 d, 2 query, 3 list, 4 count, 5 out.
  // Locals: 6 k, 7 base, 8 j (i32); 9 ab, 10 ce (v128: dotAt's accumulators a, b and c, e); 11 a (f64).
  const pair = (acc: number, offset: number) => [
    ...get(acc),
    ...at(7, 8, 2),
    ...simd(0x5d, 2, offset),
    ...simd(0x5f),
    ...at(2, 8, 2),
    ...simd(0x5d, 2, offset),
    ...simd(0x5f),
    ...simd(0xf2, 0x01),
    ...simd(0xf0, 0x01),
    ...set(acc),
  ];
  const lane = (acc: number, i: number) => [...get(acc), ...simd(0x21, i)]; // f64x2.extract_lane
  return [
    3,
    3,
    I32,
    2,
    V128,
    1,
    F64,
    ...loop([
      ...breakIf([...get(6), ...get(4), I32_GE_U]), // k >= count
      // base = matrix + ((list[k] · d) << 2)
      ...get(0),
      ...at(3, 6, 2),
      0x28,
      2,
      0,
      ...get(1),
      0x6c,
      ...i32(2),
      0x74,
      0x6a,
      ...set(7),
      ...zero128,
      ...set(9),
      ...zero128,
      ...set(10),
      ...i32(0),
      ...set(8),
      ...loop([
        ...breakIf([...get(8), ...i32(4), 0x6a, ...get(1), I32_GT_U]), // j + 4 > d
        ...pair(9, 0),
        ...pair(10, 8),
        ...increment(8, 4),
      ]),
      ...lane(9, 0),
      ...set(11),
      ...loop([
        ...breakIf([...get(8), ...get(1), I32_GE_U]), // j >= d
        ...get(11),
        ...at(7, 8, 2),
        0x2a,
        2,
        0,
        0xbb,
        ...at(2, 8, 2),
        0x2a,
        2,
        0,
        0xbb,
        0xa2,
        0xa0,
        ...set(11),
        ...increment(8, 1),
      ]),
      // out[k] = a + b + c + e, left to right as dotAt returns it.
      ...at(5, 6, 3),
      ...get(11),
      ...lane(9, 1),
      0xa0,
      ...lane(10, 0),
      0xa0,
      ...lane(10, 1),
      0xa0,
      0x39,
      3,
      0,
      ...increment(6, 1),
    ]),
    0x0b,
  ];
}

/** The module: two types, two functions, one memory, exported by name. */
export function kernelBytes(): Uint8Array {
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  const code = (body: number[]) => [...uleb(body.length), ...body];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [2, 0x60, 4, I32, F64, I32, I32, 0, 0x60, 6, I32, I32, I32, I32, I32, I32, 0]),
    ...section(3, [2, 0, 1]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [3, ...name('addRow'), 0x00, 0, ...name('dotRows'), 0x00, 1, ...name('memory'), 0x02, 0]),
    ...section(10, [2, ...code(addRowBody()), ...code(dotRowsBody())]),
  ]);
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128, for i32.const (small non-negative values here, but 64 and up need a sign bit). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}
