/**
 * Generates a tiny BERT-shaped sentence-transformers export (random weights, a 30-token
 * WordPiece vocabulary) so that the `onnx` encoder is tested on real files, offline.
 * `expectedEmbedding` recomputes the model in plain TypeScript to check tokenising and pooling.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DataType, GraphBuilder } from '../../src/embeddings/onnx-graph.js';

export const VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  'hello',
  'world',
  'good',
  'bye',
  'the',
  'cat',
  'sat',
  'on',
  'mat',
  'route',
  'model',
  '##s',
  '##ing',
  'how',
  'do',
  'i',
  'code',
  'in',
  'python',
  '?',
  '!',
  '.',
  ',',
  'a',
  'dog',
  'run',
];
const HIDDEN = 8;
const MAX_POS = 32;

function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1664525 + 1013904223) % 4294967296;
    return s / 4294967296 - 0.5;
  };
}

export interface TinyBert {
  dir: string;
  word: Float32Array;
  position: Float32Array;
  type: Float32Array;
  dense: Float32Array;
}

export async function writeTinyBert(dir: string, options: { tokenTypes?: boolean } = {}): Promise<TinyBert> {
  const rnd = random(42);
  const fill = (n: number) => Float32Array.from({ length: n }, rnd);
  const word = fill(VOCAB.length * HIDDEN);
  const position = fill(MAX_POS * HIDDEN);
  const type = fill(2 * HIDDEN);
  const dense = fill(HIDDEN * HIDDEN);
  const g = new GraphBuilder();
  const w = g.floatTensor('word', [VOCAB.length, HIDDEN], word);
  const p = g.floatTensor('position', [MAX_POS, HIDDEN], position);
  const d = g.floatTensor('dense', [HIDDEN, HIDDEN], dense);
  const len = g.op('Shape', ['input_ids'], { start: 1, end: 2 });
  let x = g.op('Add', [
    g.op('Gather', [w, 'input_ids'], { axis: 0 }),
    g.op('Slice', [p, g.ints([0]), len, g.ints([0])]),
  ]);
  const inputs = [
    { name: 'input_ids', type: DataType.INT64, shape: ['batch', 'sequence'] },
    { name: 'attention_mask', type: DataType.INT64, shape: ['batch', 'sequence'] },
  ];
  if (options.tokenTypes !== false) {
    const t = g.floatTensor('type', [2, HIDDEN], type);
    x = g.op('Add', [x, g.op('Gather', [t, 'token_type_ids'], { axis: 0 })]);
    inputs.push({ name: 'token_type_ids', type: DataType.INT64, shape: ['batch', 'sequence'] });
  }
  // The mask is an input of every BERT export; using it keeps onnxruntime from pruning it.
  const maskF = g.op('Unsqueeze', [g.op('Cast', ['attention_mask'], { to: DataType.FLOAT }), g.ints([2])]);
  const hidden = g.op('Mul', [
    g.op('Tanh', [g.op('MatMul', [x, d])]),
    g.op('Add', [g.op('Mul', [maskF, g.scalar(0)]), g.scalar(1)]),
  ]);
  g.op('Identity', [hidden], {}, 'last_hidden_state');
  const bytes = g.encode({
    producer: 'semroute tests',
    inputs,
    outputs: [{ name: 'last_hidden_state', type: DataType.FLOAT, shape: ['batch', 'sequence', HIDDEN] }],
  });
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'model.onnx'), bytes);
  const special = (content: string, id: number) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special('[PAD]', 0), special('[UNK]', 1), special('[CLS]', 2), special('[SEP]', 3)],
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])),
    },
  };
  await writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  await writeFile(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      tokenizer_class: 'BertTokenizer',
      model_max_length: MAX_POS,
      do_lower_case: true,
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      mask_token: '[PAD]',
    }),
  );
  await writeFile(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: HIDDEN }));
  return { dir, word, position, type, dense };
}

/** The model in plain TypeScript for given token ids: mean of tanh((w + p + t)·D), normalised. */
export function expectedEmbedding(model: TinyBert, ids: number[], tokenTypes = true): number[] {
  const sum = new Array<number>(HIDDEN).fill(0);
  ids.forEach((id, pos) => {
    for (let j = 0; j < HIDDEN; j++) {
      let acc = 0;
      for (let i = 0; i < HIDDEN; i++) {
        const x =
          model.word[id * HIDDEN + i]! +
          model.position[pos * HIDDEN + i]! +
          (tokenTypes ? model.type[i]! : 0);
        acc += x * model.dense[i * HIDDEN + j]!;
      }
      sum[j]! += Math.tanh(acc);
    }
  });
  const mean = sum.map((s) => s / ids.length);
  const norm = Math.sqrt(mean.reduce((s, x) => s + x * x, 0));
  return mean.map((x) => x / norm);
}
