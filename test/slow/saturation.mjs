// Child of non-vnni.test.ts: a MatMulInteger whose u8 × s8 pair sums exceed int16, run through
// onnxruntime on whatever CPU this process sees; prints the results and the exact values.
import { createRequire } from 'node:module';

const { GraphBuilder, DataType } = await import(
  new URL('../../dist/embeddings/onnx-graph.js', import.meta.url)
);
const ort = createRequire(import.meta.url)('onnxruntime-node');
const K = 64;
const N = 16;

async function product(weights) {
  const g = new GraphBuilder();
  const w =
    weights === 'int8'
      ? g.int8Tensor('w', [K, N], new Int8Array(K * N).fill(127))
      : g.uint8Tensor('w', [K, N], new Uint8Array(K * N).fill(255));
  g.op('MatMulInteger', ['x', w], {}, 'y');
  const model = g.encode({
    producer: 'saturation probe',
    inputs: [{ name: 'x', type: DataType.UINT8, shape: [1, K] }],
    outputs: [{ name: 'y', type: 6, shape: [1, N] }],
  });
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  const { y } = await session.run({ x: new ort.Tensor('uint8', new Uint8Array(K).fill(255), [1, K]) });
  return Number(y.data[0]);
}

process.stdout.write(
  JSON.stringify({
    u8s8: await product('int8'),
    u8u8: await product('uint8'),
    exact: { u8s8: K * 255 * 127, u8u8: K * 255 * 255 },
  }),
);
