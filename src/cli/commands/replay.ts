/**
 * `semroute replay --config new.yaml --log decisions.jsonl [--baseline old.yaml] [--max-changed 5%]`:
 * every logged prompt re-decided offline by the new config, compared with the log (or with the
 * baseline config), as a table or `--json`; exit 1 when more than `--max-changed` of the
 * decisions change (a CI gate for router changes).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadProxyConfig } from '../../config/proxy-config.js';
import { ErrorCode, SemrouteError } from '../../errors.js';
import { Gateway } from '../../gateway/gateway.js';
import { readDecisionLog } from '../../loop/log-reader.js';
import { replay } from '../../loop/replay.js';
import { printJson, UsageError } from '../output.js';

async function gatewayOf(file: string): Promise<Gateway> {
  const config = await loadProxyConfig(file);
  return Gateway.create(config.gateway, { baseDir: config.baseDir });
}

/** "5%", "5" or "0.05" as a share. */
function share(text: string): number {
  const percent = text.endsWith('%');
  const n = Number(percent ? text.slice(0, -1) : text);
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`--max-changed takes a share such as 5% or 0.05, got ${text}`);
  return percent || n > 1 ? n / 100 : n;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export async function replayCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      log: { type: 'string' },
      baseline: { type: 'string' },
      'max-changed': { type: 'string' },
      top: { type: 'string', default: '10' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.config === undefined) throw new UsageError('replay needs --config FILE (the config to try)');
  if (values.log === undefined) throw new UsageError('replay needs --log FILE (a decision log)');
  const limit = values['max-changed'] === undefined ? undefined : share(values['max-changed']);
  let text: string;
  try {
    text = await readFile(values.log, 'utf8');
  } catch (cause) {
    throw new SemrouteError(ErrorCode.FILE_READ, `Cannot read ${values.log}`, { file: values.log, cause });
  }
  const log = readDecisionLog(text);
  const candidate = await gatewayOf(values.config);
  const baseline = values.baseline === undefined ? undefined : await gatewayOf(values.baseline);
  try {
    const report = await replay(log, candidate, baseline, { top: Number(values.top) });
    const over = limit !== undefined && report.changedShare > limit;
    if (values.json) printJson({ ...report, maxChanged: limit ?? null, pass: !over });
    else {
      const out = [
        `replayed ${report.replayed} of ${report.lines} logged lines against ${values.config} (compared with ${values.baseline ?? 'what was logged'})`,
        `skipped: ${report.skipped.withoutPrompt} without a kept prompt, ${report.skipped.corrupt} corrupt lines, ${report.skipped.failed} that failed to decide`,
        `changed: ${report.changed} (${pct(report.changedShare)})${limit === undefined ? '' : `, allowed ${pct(limit)}: ${over ? 'FAIL' : 'pass'}`}`,
      ];
      if (report.changed > 0) {
        out.push('from → to:');
        for (const [k, n] of Object.entries(report.matrix).sort((a, b) => b[1] - a[1]))
          out.push(`  ${String(n).padStart(6)}  ${k}`);
      }
      if (report.cost.priced > 0)
        out.push(
          `cost of the ${report.cost.priced} priced requests: $${report.cost.baselineUsd.toFixed(6)} → $${report.cost.replayUsd.toFixed(6)} (${report.cost.deltaUsd >= 0 ? '+' : ''}$${report.cost.deltaUsd.toFixed(6)})`,
        );
      if (report.top.length > 0) {
        out.push('changed most:');
        for (const t of report.top)
          out.push(
            `  ${t.from.label} (${t.from.score?.toFixed(3) ?? '—'}) → ${t.to.label} (${t.to.score?.toFixed(3) ?? '—'})  ${JSON.stringify(t.prompt)}`,
          );
      }
      process.stdout.write(`${out.join('\n')}\n`);
    }
    return over ? 1 : 0;
  } finally {
    await candidate.close();
    await baseline?.close();
  }
}
