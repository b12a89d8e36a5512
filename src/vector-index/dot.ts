/** The inner product of `query` with the row of `data` that starts at `base`. */
export function dotAt(data: Float32Array, base: number, query: Float32Array): number {
  const d = query.length;
  // Four accumulators let the JIT overlap the multiply-adds.
  let a = 0;
  let b = 0;
  let c = 0;
  let e = 0;
  let j = 0;
  for (; j + 3 < d; j += 4) {
    a += data[base + j]! * query[j]!;
    b += data[base + j + 1]! * query[j + 1]!;
    c += data[base + j + 2]! * query[j + 2]!;
    e += data[base + j + 3]! * query[j + 3]!;
  }
  for (; j < d; j++) a += data[base + j]! * query[j]!;
  return a + b + c + e;
}
