/** `semroute drift --log decisions.jsonl`: unrouted and thin-margin prompts, clustered into proposals. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ErrorCode, SemrouteError } from '../../errors.js';
import { drift } from '../../loop/drift.js';
import { readDecisionLog } from '../../loop/log-reader.js';
import { printJson, UsageError } from '../output.js';

export async function driftCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      log: { type: 'string' },
      router: { type: 'string' },
      margin: { type: 'string', default: '0.05' },
      similarity: { type: 'string', default: '0.6' },
      'min-size': { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.log === undefined)
    throw new UsageError('drift needs --log FILE (a decision log written with keep_prompts)');
  const num = (name: string, v: string, lo: number, hi: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi)
      throw new UsageError(`--${name} takes a number from ${lo} to ${hi}, got ${v}`);
    return n;
  };
  const options = {
    margin: num('margin', values.margin, 0, 1),
    similarity: num('similarity', values.similarity, -1, 1),
    minSize: Math.floor(num('min-size', values['min-size'], 1, 1e6)),
    router: values.router,
  };
  let text: string;
  try {
    text = await readFile(values.log, 'utf8');
  } catch (cause) {
    throw new SemrouteError(ErrorCode.FILE_READ, `Cannot read ${values.log}`, { file: values.log, cause });
  }
  const { UseLiteEncoder } = await import('../../embeddings/use-lite/encoder.js');
  const encoder = await UseLiteEncoder.load();
  try {
    const log = readDecisionLog(text);
    const report = await drift(log, encoder, options);
    if (values.json) {
      printJson({ ...report, corrupt: log.counts.corrupt });
      return 0;
    }
    const out = [
      `${report.decisions} decisions: ${report.unrouted} unrouted, ${report.thin} by a margin under ${options.margin}; ${report.withoutPrompt} without a kept prompt, ${log.counts.corrupt} corrupt lines skipped`,
    ];
    if (report.clusters.length === 0) out.push(`no cluster of ${options.minSize} or more prompts`);
    for (const c of report.clusters) {
      out.push(
        '',
        `${c.size} prompts (${c.why.unrouted} unrouted, ${c.why.thin} thin)${c.nearest ? `, nearest route ${c.nearest.route} (${Math.round(c.nearest.share * 100)}%)` : ''}`,
        c.proposal.action === 'add_utterances'
          ? `  proposal: add to route "${c.proposal.route}":`
          : `  proposal: a new route "${c.proposal.name}" with:`,
        ...c.proposal.utterances.map((u) => `    - ${JSON.stringify(u)}`),
        `  prompts: ${c.prompts
          .slice(0, 8)
          .map((p) => JSON.stringify(p.text.slice(0, 80)))
          .join(', ')}${c.prompts.length > 8 ? ', …' : ''}`,
      );
    }
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  } finally {
    await encoder.close();
  }
}
