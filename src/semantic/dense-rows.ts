/**
 * The lexical features most routes share, as dense rows of route weights, and the sums a query
 * adds them into. A large router's query shares most of its character n-grams with most routes:
 * walked as postings, each costs an index load and a scattered add per route; a row is one
 * straight pass. On the bench's 2,000-route router, 1,059 features in a quarter of the routes or
 * more hold 1.8 M of its 2.6 M postings, and their rows take less memory than those postings.
 *
 * The pass runs in WebAssembly SIMD (two float64 lanes) where the runtime has it, else in plain
 * JavaScript. Both do, per route, `sum += q · weight` in float64, one feature at a time in the
 * caller's order, with no fused multiply-add: the sums are the same bits on every CPU and by
 * either path, and the same as the postings walk's (a route without the feature adds q · 0).
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

/** The sums one query is scored into; a view that stays valid for the rows' life. */
export interface RowSums {
  readonly sums: Float64Array;
  /** Sets every sum to 0 (before a query). */
  reset(): void;
  /** `sums[r] += q · row[r]` for every route. */
  addRow(row: number, q: number): void;
}

export interface DenseRows extends RowSums {
  /** Row of each feature, or -1 for one kept as postings. */
  readonly rowOf: Int32Array;
  readonly kind: 'wasm' | 'js';
}

/** A feature gets a row when at least this share of the routes has it. */
const ROW_SHARE = 4;

/** The rows of `features` postings (CSR, routes ascending, no route twice in one feature). */
export function denseRows(
  postings: { offsets: Int32Array; routes: Int32Array; weights: Float32Array; routeCount: number },
  options: { wasm?: boolean } = {},
): DenseRows {
  const { offsets, routes, weights, routeCount } = postings;
  const featureCount = offsets.length - 1;
  const rowOf = new Int32Array(featureCount).fill(-1);
  let count = 0;
  for (let f = 0; f < featureCount; f++)
    if ((offsets[f + 1]! - offsets[f]!) * ROW_SHARE >= routeCount) rowOf[f] = count++;
  const module = options.wasm === false ? undefined : simdModule();
  const storage =
    module === undefined ? jsStorage(count, routeCount) : wasmStorage(module, count, routeCount);
  const { rows } = storage;
  for (let f = 0; f < featureCount; f++) {
    const row = rowOf[f]!;
    if (row < 0) continue;
    const base = row * routeCount;
    for (let p = offsets[f]!; p < offsets[f + 1]!; p++) rows[base + routes[p]!] = weights[p]!;
  }
  return { rowOf, kind: module === undefined ? 'js' : 'wasm', ...storage.sums };
}

interface Storage {
  rows: Float32Array;
  sums: RowSums;
}

function jsStorage(count: number, routeCount: number): Storage {
  const rows = new Float32Array(count * routeCount);
  const sums = new Float64Array(routeCount);
  return {
    rows,
    sums: {
      sums,
      reset: () => sums.fill(0),
      addRow(row, q) {
        const base = row * routeCount;
        for (let r = 0; r < routeCount; r++) sums[r]! += q * rows[base + r]!;
      },
    },
  };
}

/**
 * One instance per router: its memory holds the sums (at 0, 16-byte aligned) and then the rows.
 * Sized once, never grown, so the views made here stay valid.
 */
function wasmStorage(module: WasmModule, count: number, routeCount: number): Storage {
  const sumsBytes = Math.ceil((routeCount * 8) / 16) * 16;
  const bytes = sumsBytes + count * routeCount * 4;
  const instance = new wasm!.Instance(module);
  const { memory, addRow } = instance.exports as {
    memory: WasmMemory;
    addRow: (row: number, q: number, sums: number, n: number) => void;
  };
  const pages = Math.ceil(bytes / 65_536);
  const have = memory.buffer.byteLength / 65_536;
  if (pages > have) memory.grow(pages - have);
  const sums = new Float64Array(memory.buffer, 0, routeCount);
  const rows = new Float32Array(memory.buffer, sumsBytes, count * routeCount);
  const rowBytes = routeCount * 4;
  return {
    rows,
    sums: {
      sums,
      reset: () => sums.fill(0),
      addRow: (row, q) => addRow(sumsBytes + row * rowBytes, q, 0, routeCount),
    },
  };
}

let compiled: WasmModule | null | undefined;

/** The kernel, compiled once per process; null where WebAssembly SIMD is missing. */
function simdModule(): WasmModule | undefined {
  if (compiled === undefined) {
    const bytes = kernelBytes();
    compiled = wasm?.validate(bytes) === true ? new wasm.Module(bytes) : null;
  }
  return compiled ?? undefined;
}

/**
 * `addRow(row, q, sums, n)`: for i < n, `f64 sums[i] += q · f32 row[i]` (byte addresses), two
 * lanes at a time, the odd last one alone. Written out by hand: 120 bytes are not worth a
 * toolchain. Opcodes from the WebAssembly core and SIMD specifications.
 */
export function kernelBytes(): Uint8Array {
  // Locals: 0 row (i32), 1 q (f64), 2 sums (i32), 3 n (i32), 4 i (i32), 5 qq (v128).
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const simd = (op: number[]) => [0xfd, ...op];
  const rowAt = [...get(0), ...get(4), 0x41, 2, 0x74, 0x6a]; // row + (i << 2)
  const sumAt = [...get(2), ...get(4), 0x41, 3, 0x74, 0x6a]; // sums + (i << 3)
  // Local declarations: two groups, one i32 and one v128.
  const body: number[] = [2, 1, 0x7f, 1, 0x7b];
  body.push(...get(1), ...simd([0x14]), ...set(5)); // qq = f64x2.splat(q)
  body.push(0x02, 0x40, 0x03, 0x40); // block, loop
  // if (i + 2 > n) break
  body.push(...get(4), 0x41, 2, 0x6a, ...get(3), 0x4b, 0x0d, 1);
  // v128.store(sumAt, f64x2.add(v128.load(sumAt), f64x2.mul(qq, promote(load64_zero(rowAt)))))
  body.push(...sumAt);
  body.push(...sumAt, ...simd([0x00]), 3, 0); // v128.load align 2^3 offset 0
  body.push(...get(5));
  body.push(...rowAt, ...simd([0x5d]), 2, 0); // v128.load64_zero align 2^2
  body.push(...simd([0x5f])); // f64x2.promote_low_f32x4
  body.push(...simd([0xf2, 0x01])); // f64x2.mul
  body.push(...simd([0xf0, 0x01])); // f64x2.add
  body.push(...simd([0x0b]), 3, 0); // v128.store
  body.push(...get(4), 0x41, 2, 0x6a, ...set(4)); // i += 2
  body.push(0x0c, 0, 0x0b, 0x0b); // br loop; end loop; end block
  // if (i < n) sums[i] += q · row[i]
  body.push(...get(4), ...get(3), 0x49, 0x04, 0x40);
  body.push(...sumAt);
  body.push(...sumAt, 0x2b, 3, 0); // f64.load
  body.push(...get(1), ...rowAt, 0x2a, 2, 0, 0xbb, 0xa2); // q · f64.promote_f32(f32.load)
  body.push(0xa0, 0x39, 3, 0); // f64.add; f64.store
  body.push(0x0b, 0x0b); // end if; end function
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 4, 0x7f, 0x7c, 0x7f, 0x7f, 0]), // type: (i32 f64 i32 i32) -> ()
    ...section(3, [1, 0]), // one function of type 0
    ...section(5, [1, 0x00, 1]), // one memory, at least one page
    ...section(7, [2, ...name('addRow'), 0x00, 0, ...name('memory'), 0x02, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
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
