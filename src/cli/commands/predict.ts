/**
 * `semroute predict --router DIR|default --json FILE`: one JSON object per prompt of FILE,
 * `{"id", "difficulty", "quality": {"<model>": p}, "choice"}`, the choice at the router's
 * operating point. Reads only `id` and `prompt` / `messages`: outcomes in the file are ignored.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadDifficultyModel } from '../../difficulty/default-model.js';
import { readPrompts } from '../../difficulty/outcomes.js';
import { ErrorCode, SemrouteError } from '../../errors.js';
import { UsageError } from '../output.js';

export async function predictCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { router: { type: 'string', default: 'default' }, json: { type: 'string' } },
  });
  if (values.json === undefined)
    throw new UsageError('predict needs --json FILE (JSON Lines with id and prompt or messages)');
  let text: string;
  try {
    text = await readFile(values.json, 'utf8');
  } catch (cause) {
    throw new SemrouteError(ErrorCode.FILE_READ, `Cannot read ${values.json}`, { file: values.json, cause });
  }
  const rows = readPrompts(values.json, text);
  const model = await loadDifficultyModel(values.router);
  const { UseLiteEncoder } = await import('../../embeddings/use-lite/encoder.js');
  const encoder = await UseLiteEncoder.load();
  try {
    const needsEmbedding = model.artefact.components.dense !== undefined;
    for (let start = 0; start < rows.length; start += 256) {
      const batch = rows.slice(start, start + 256);
      const vectors = needsEmbedding ? await encoder.embed(batch.map((r) => r.ask.text)) : [];
      const lines = batch.map((r, i) => {
        const p = model.predict(r.ask, vectors[i]);
        const quality = Object.fromEntries(
          Object.entries(p.quality).map(([k, v]) => [k, Number(v.toFixed(6))]),
        );
        return JSON.stringify({
          id: r.id,
          difficulty: Number(p.difficulty.toFixed(6)),
          quality,
          choice: model.choose(p),
        });
      });
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return 0;
  } finally {
    await encoder.close();
  }
}
