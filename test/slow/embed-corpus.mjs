// Child of non-vnni.test.ts: loads the default encoder from the built package and prints its
// precision and one vector per line of the corpus it is given, as JSON on stdout.
import { readFileSync } from 'node:fs';

const { UseLiteEncoder } = await import(
  new URL('../../dist/embeddings/use-lite/encoder.js', import.meta.url)
);
const sentences = JSON.parse(readFileSync(process.argv[2], 'utf8')).sentences;
const encoder = await UseLiteEncoder.load({ build: false, threads: 1, onWarning: (m) => console.error(m) });
const rows = await encoder.embed(sentences);
process.stdout.write(
  JSON.stringify({ id: encoder.id, precision: encoder.precision, rows: rows.map((r) => Array.from(r)) }),
);
await encoder.close();
