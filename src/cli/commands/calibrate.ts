/**
 * `semroute calibrate --outcomes FILE --out DIR`: a difficulty model learned from graded traffic,
 * with its cross-validated cost-quality curve as a table and an SVG, and the operating point the
 * config will name (a strong-call share, a quality floor, a cost cap, or the tradeoff 0–10).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { calibrate, type Target } from '../../difficulty/calibrate.js';
import { costQualityCurve, curveSvg, summary } from '../../difficulty/curve.js';
import { MIN_ROWS, readOutcomes } from '../../difficulty/outcomes.js';
import type { GradedRow } from '../../difficulty/calibrate.js';
import { gradedRows, isDecisionLog, readDecisionLog } from '../../loop/log-reader.js';
import { readTextFile } from '../../config/json-source.js';
import { ErrorCode, SemrouteError } from '../../errors.js';
import { printJson, UsageError } from '../output.js';

function targetOf(values: Record<string, string | boolean | undefined>): Target {
  const given = (['target-share', 'min-quality', 'max-cost', 'tradeoff'] as const).filter(
    (k) => values[k] !== undefined,
  );
  if (given.length > 1)
    throw new UsageError(`give one operating point, not ${given.map((g) => `--${g}`).join(' and ')}`);
  const key = given[0] ?? 'target-share';
  const raw = values[key] === undefined ? '0.3' : String(values[key]);
  const value = Number(raw);
  const range: Record<string, [number, number]> = {
    'target-share': [0, 1],
    'min-quality': [0, 1],
    'max-cost': [0, Number.POSITIVE_INFINITY],
    tradeoff: [0, 10],
  };
  const [lo, hi] = range[key]!;
  if (!Number.isFinite(value) || value < lo || value > hi)
    throw new UsageError(
      `--${key} takes a number from ${lo} to ${hi === Number.POSITIVE_INFINITY ? 'any' : hi}, got ${raw}`,
    );
  return { kind: key.replace('-', '_') as Target['kind'], value };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * Graded rows from a decision log: decisions whose prompt was kept and a shadow grade joined by
 * id; rows graded on the two models graded most often (shadow candidates can change).
 */
function fromLog(file: string, text: string): { rows: GradedRow[]; models: string[]; note: string } {
  const log = readDecisionLog(text);
  const { rows: all, withoutPrompt, ungraded } = gradedRows(log);
  const freq = new Map<string, number>();
  for (const r of all) for (const m of Object.keys(r.outcomes)) freq.set(m, (freq.get(m) ?? 0) + 1);
  const models = [...freq]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 2)
    .map(([m]) => m);
  const rows = all
    .filter((r) => models.every((m) => m in r.outcomes))
    .map((r) => ({ ...r, outcomes: Object.fromEntries(models.map((m) => [m, r.outcomes[m]!])) }));
  const note = `${file}: a decision log: ${log.counts.decisions} decisions, ${log.counts.shadows} shadow grades; ${rows.length} graded rows used (${withoutPrompt} without a kept prompt, ${ungraded} never graded, ${log.counts.corrupt} corrupt lines skipped)`;
  if (rows.length < MIN_ROWS)
    throw new SemrouteError(
      ErrorCode.INPUT_INVALID,
      `${note}; calibrating needs at least ${MIN_ROWS} graded rows`,
      {
        file,
        expected: `${MIN_ROWS} or more graded decisions (general_settings.decision_log.keep_prompts and router_settings.shadow)`,
      },
    );
  if (models.length < 2)
    throw new SemrouteError(
      ErrorCode.INPUT_INVALID,
      `${note}; the shadow grades name one model: add router_settings.shadow.candidates`,
      { file },
    );
  return { rows, models, note };
}

export async function calibrateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      outcomes: { type: 'string' },
      out: { type: 'string' },
      'target-share': { type: 'string' },
      'min-quality': { type: 'string' },
      'max-cost': { type: 'string' },
      tradeoff: { type: 'string' },
      folds: { type: 'string', default: '5' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.outcomes === undefined)
    throw new UsageError('calibrate needs --outcomes FILE (JSON Lines of graded answers)');
  if (values.out === undefined)
    throw new UsageError('calibrate needs --out DIR (where the router is written)');
  const folds = Number(values.folds);
  if (!Number.isInteger(folds) || folds < 2 || folds > 20)
    throw new UsageError('--folds takes an integer from 2 to 20');
  const target = targetOf(values);
  // Graded outcomes or a decision log, gzipped or not.
  const text = await readTextFile(values.outcomes, 1024 * 1024 * 1024);
  const { rows, models, note } = isDecisionLog(text)
    ? fromLog(values.outcomes, text)
    : { ...(await readOutcomes(values.outcomes, text)), note: undefined };
  if (note !== undefined && !values.json) process.stderr.write(`${note}\n`);
  const { UseLiteEncoder } = await import('../../embeddings/use-lite/encoder.js');
  const encoder = await UseLiteEncoder.load({ memoryArena: true });
  try {
    if (!values.json)
      process.stderr.write(
        `calibrating on ${rows.length} graded prompts (${models.join(', ')}), ${folds}-fold cross-validation\n`,
      );
    const result = await calibrate(rows, encoder, {
      folds,
      target,
      onProgress: (stage) => (values.json ? undefined : process.stderr.write(`  ${stage}\n`)),
    });
    const { curve } = result.heldOut;
    await mkdir(values.out, { recursive: true });
    await writeFile(path.join(values.out, 'model.json'), `${JSON.stringify(result.artefact)}\n`);
    await writeFile(
      path.join(values.out, 'curve.svg'),
      curveSvg(
        [{ label: `calibrated (held out)`, curve }],
        `${path.basename(values.outcomes)}: ${result.weak} → ${result.strong}`,
      ),
    );
    const table = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1].map((p) => {
      const k = Math.round(p * curve.rows);
      return { strongShare: p, quality: curve.quality[k]!, pgr: curve.pgr[k]! };
    });
    const op = result.artefact.operatingPoint;
    // The honest comparison: what prompt length alone does on the same rows.
    const length = costQualityCurve(
      rows.map((r) => r.ask.text.length),
      rows.map((r) => r.outcomes[result.weak]!),
      rows.map((r) => r.outcomes[result.strong]!),
    );
    const warnings: string[] = [];
    if (curve.apgr <= length.apgr)
      warnings.push(
        `held out, this calibration (APGR ${curve.apgr.toFixed(3)}) does no better than prompt length (${length.apgr.toFixed(3)}): grade more rows (it had ${rows.length}) or keep the default model`,
      );
    const report = {
      out: values.out,
      rows: rows.length,
      weak: result.weak,
      strong: result.strong,
      heldOut: summary(curve),
      curve: table,
      baselines: { random: 0.5, length: length.apgr },
      operatingPoint: op,
      warnings,
    };
    await writeFile(path.join(values.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    if (values.json) printJson(report);
    else {
      const s = report.heldOut;
      process.stdout.write(
        [
          `held-out cost-quality curve (${folds}-fold cross-validation; ${result.weak} = weak, ${result.strong} = strong)`,
          'strong calls  quality  PGR',
          ...table.map(
            (r) =>
              `${pct(r.strongShare).padStart(11)}  ${r.quality.toFixed(3).padStart(7)}  ${pct(r.pgr).padStart(6)}`,
          ),
          `APGR ${s.apgr.toFixed(3)} (random 0.500)  CPT(50%) ${pct(s.cpt50)}  CPT(80%) ${pct(s.cpt80)}  quality at 20% / 50%: ${s.q20.toFixed(3)} / ${s.q50.toFixed(3)}`,
          `operating point (${op.kind} ${op.value}): difficulty ≥ ${op.threshold.toFixed(3)} → ${result.strong}; held out: ${pct(op.heldOut.strongShare)} strong calls, quality ${op.heldOut.quality.toFixed(3)} (PGR ${pct(op.heldOut.pgr)})${op.heldOut.cost === undefined ? '' : `, $${op.heldOut.cost.toFixed(6)} a request`}`,
          `baselines on the same rows: random APGR 0.500, prompt length ${length.apgr.toFixed(3)}`,
          ...warnings.map((w) => `warning: ${w}`),
          `wrote ${path.join(values.out, 'model.json')}, curve.svg, report.json`,
          `use it: complexity_router_config: { classifier_type: semroute, difficulty_model: ${values.out} } (or router_settings.auto_difficulty_model)`,
        ].join('\n') + '\n',
      );
    }
    return 0;
  } finally {
    await encoder.close();
  }
}
