/**
 * The decision's WebAssembly kernels on whatever CPU runs this (test/slow/simd-cpus.test.ts runs
 * it natively and under qemu as older CPUs): a large router's lexical scores through the dense
 * rows, and centroid-style row dots, printed as the bits of each float64.
 */
import { LexicalIndex } from '../../dist/semantic/lexical.js';
import { rowDots } from '../../dist/vector-index/row-dots.js';

let seed = 12345;
const random = () => {
  seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
  return seed / 2 ** 32;
};
// A skewed vocabulary: common words in most routes (dense rows), rare ones in a few (postings).
const words = Array.from({ length: 400 }, (_, i) => `w${i.toString(36)}`);
const word = () => words[Math.floor(random() ** 2 * words.length)];
const sentence = () => Array.from({ length: 3 + Math.floor(random() * 8) }, word).join(' ');
const routeCount = 150;
const docs = Array.from({ length: 3000 }, (_, i) => ({ route: i % routeCount, text: sentence() }));
const index = LexicalIndex.build(docs, routeCount);
const lexical = Array.from({ length: 40 }, sentence).map((q) => [...index.score(q)]);

const d = 512;
const matrix = Float32Array.from({ length: 200 * d }, () => random() * 2 - 1);
const query = Float32Array.from({ length: d }, () => random() * 2 - 1);
const dots = rowDots(matrix, d);
const out = new Float64Array(200);
dots.dots(
  query,
  Int32Array.from({ length: 200 }, (_, r) => r),
  out,
);

const bits = (values) => Buffer.from(Float64Array.from(values).buffer).toString('hex');
process.stdout.write(
  JSON.stringify({
    rows: index.rowKind,
    dots: dots.kind,
    lexical: bits(lexical.flat()),
    products: bits(out),
  }),
);
