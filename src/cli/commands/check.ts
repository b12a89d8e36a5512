import { parseArgs } from 'node:util';
import { loadProxyConfig } from '../../config/proxy-config.js';
import { checkDeployments } from '../../gateway/check.js';
import { printJson, UsageError } from '../output.js';

export async function checkCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      probe: { type: 'string', default: 'request' },
      'timeout-ms': { type: 'string', default: '10000' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.config === undefined)
    throw new UsageError('check needs --config <config.yaml> (see semroute check --help)');
  if (values.probe !== 'request' && values.probe !== 'models')
    throw new UsageError('--probe takes request or models');
  const timeoutMs = Number(values['timeout-ms']);
  if (!Number.isFinite(timeoutMs) || timeoutMs < 1)
    throw new UsageError('--timeout-ms takes a number of milliseconds');
  const config = await loadProxyConfig(values.config);
  const rows = await checkDeployments(config.gateway, { probe: values.probe, timeoutMs });
  const failed = rows.filter((r) => !r.ok).length;
  if (values.json) printJson({ config: values.config, probe: values.probe, deployments: rows, failed });
  else {
    const out = process.stdout;
    const table = [
      ['group', 'deployment', 'provider', 'url', 'status', 'ms'],
      ...rows.map((r) => [
        r.group,
        r.deployment,
        r.provider,
        r.url,
        r.ok ? 'ok' : r.status === null ? 'failed' : `HTTP ${r.status}`,
        r.ms.toFixed(0),
      ]),
    ];
    const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
    for (const row of table) out.write(`${row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')}\n`);
    for (const r of rows.filter((x) => !x.ok)) {
      out.write(`\n${r.group} (${r.deployment}): ${r.error}\n`);
      if (r.hint) out.write(`  hint: ${r.hint}\n`);
    }
    out.write(`\n${rows.length - failed} of ${rows.length} deployment(s) answered\n`);
  }
  return failed > 0 ? 1 : 0;
}
