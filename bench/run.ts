/**
 * `npm run bench [-- --only <suite>] [--quick] [--dataset PATH]`
 * Prints the machine and a table per suite; writes bench/results/latest.{json,md} and SVG charts.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cliSuite } from './cli.js';
import { costQualitySuite } from './cost-quality.js';
import { embedSuite } from './embed.js';
import { gatewaySuite } from './gateway.js';
import type { BenchContext, Suite } from './lib/context.js';
import { environment, markdownTables, type ResultRow } from './lib/report.js';
import { memorySuite } from './memory.js';
import { peersSuite } from './peers.js';
import { proxySuite } from './proxy.js';
import { qualitySuite } from './quality.js';
import { scaleSuite } from './scale.js';
import { routeSuite } from './route.js';
import { searchSuite } from './search.js';
import { exitWithParent } from '../src/internal/lifeline.js';
import { hnswBuild } from '../src/vector-index/hnsw.js';

// Run under tsx (npm run bench): if the launcher goes, this goes, and every server it started
// follows (each watches this process: bench/lib/processes.ts).
exitWithParent(process.ppid);

const SUITES: Record<string, Suite> = {
  encoder: embedSuite,
  search: searchSuite,
  route: routeSuite,
  scale: scaleSuite,
  cli: cliSuite,
  quality: qualitySuite,
  'cost-quality': costQualitySuite,
  gateway: gatewaySuite,
  proxy: proxySuite,
  peers: peersSuite,
  memory: memorySuite,
};
/** Suites a `--quick` run leaves out unless named with `--only`: minutes each. */
const FULL_RUN_ONLY = new Set(['peers', 'memory']);
const DEFAULT_DATASET = path.resolve('datasets/clinc150/clinc150_normalized.json');

const { values } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    quick: { type: 'boolean', default: false },
    dataset: { type: 'string' },
    out: { type: 'string', default: 'bench/results' },
  },
});

const chosen =
  values.only ?? Object.keys(SUITES).filter((name) => !(values.quick && FULL_RUN_ONLY.has(name)));
for (const name of chosen) {
  if (!(name in SUITES)) {
    console.error(`unknown suite "${name}"; suites: ${Object.keys(SUITES).join(', ')}`);
    process.exit(2);
  }
}
const dataset = values.dataset ?? (existsSync(DEFAULT_DATASET) ? DEFAULT_DATASET : undefined);
const ctx: BenchContext = {
  quick: values.quick,
  dataset,
  log: (l) => console.log(l),
  charts: new Map(),
  env: {},
};

const started = performance.now();
const results: ResultRow[] = [];
for (const name of chosen) {
  console.log(`\n== ${name}${values.quick ? ' (quick)' : ''}`);
  const t = performance.now();
  results.push(...(await SUITES[name]!(ctx)));
  console.log(`   ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

const env = environment({
  ...ctx.env,
  hnsw: hnswBuild(),
  quick: values.quick,
  suites: chosen,
  dataset: dataset ?? null,
  seconds: Math.round((performance.now() - started) / 1000),
});
const md = `# semroute benchmark\n\n${Object.entries(env)
  .map(([k, v]) => `- ${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`)
  .join('\n')}\n\n${markdownTables(results)}\n`;
console.log(`\n${md}`);
await mkdir(values.out, { recursive: true });
await writeFile(
  path.join(values.out, 'latest.json'),
  `${JSON.stringify({ environment: env, results }, null, 2)}\n`,
);
await writeFile(path.join(values.out, 'latest.md'), md);
for (const [file, svg] of ctx.charts) await writeFile(path.join(values.out, file), svg);
console.log(
  `wrote ${path.join(values.out, 'latest.json')}, latest.md${[...ctx.charts.keys()].map((f) => `, ${f}`).join('')}`,
);
