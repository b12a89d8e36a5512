/**
 * Trains the shipped default difficulty model (data/difficulty-default.json) from the public
 * graded outcomes in datasets/routellm-outcomes (MMLU and GSM8K together), with the `prior`
 * recipe, on the default encoder. Deterministic: run it again and the file is the same.
 * `npx tsx scripts/train-default-difficulty.ts`
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UseLiteEncoder } from '../src/embeddings/use-lite/encoder.js';
import { calibrate } from '../src/difficulty/calibrate.js';
import { DEFAULT_DIFFICULTY_FILE } from '../src/difficulty/default-model.js';
import { readOutcomes } from '../src/difficulty/outcomes.js';
import { readTextFile } from '../src/config/json-source.js';

const dir = path.resolve('datasets/routellm-outcomes');
const rows = [
  ...(
    await readOutcomes(
      path.join(dir, 'mmlu.jsonl.gz'),
      await readTextFile(path.join(dir, 'mmlu.jsonl.gz'), 1024 ** 3),
    )
  ).rows,
  ...(await readOutcomes(path.join(dir, 'gsm8k.jsonl'), await readTextFile(path.join(dir, 'gsm8k.jsonl'))))
    .rows,
];
const encoder = await UseLiteEncoder.load({ memoryArena: true });
const result = await calibrate(rows, encoder, {
  recipe: 'prior',
  onProgress: (stage) => process.stderr.write(`${stage}\n`),
});
result.artefact.training = {
  ...result.artefact.training,
  source: 'datasets/routellm-outcomes (RouteLLM evals, Apache-2.0): mmlu.jsonl.gz + gsm8k.jsonl',
  candidates: 'weak = Mixtral-8x7B-Instruct, strong = GPT-4-1106-preview',
};
await writeFile(DEFAULT_DIFFICULTY_FILE, `${JSON.stringify(result.artefact)}\n`);
await encoder.close();
process.stderr.write(`wrote ${DEFAULT_DIFFICULTY_FILE} (${rows.length} rows)\n`);
