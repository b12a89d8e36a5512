/**
 * evaluate(): how well a router answers labelled rows. A row labelled `null` means "no route"
 * (out of scope); answering it with no route is correct.
 */
import type { Aggregation } from '../config/router-config.js';
import { ErrorCode, SemrouteError } from '../errors.js';
import { decide, type RouteScore } from './aggregate.js';
import type { SemanticRouter } from './semantic-router.js';
import type { Probe } from './scoring.js';

export interface LabelledRow {
  text: string;
  label: string | null;
}

export interface Metrics {
  rows: number;
  inScope: number;
  outOfScope: number;
  /** Right answers (route or abstention) over all rows. */
  accuracy: number;
  /** Right route over in-scope rows. */
  inScopeAccuracy: number;
  /** Abstentions over out-of-scope rows; null when there are none. */
  oosRecall: number | null;
  /** confusion[expected][predicted] = count; `null` is spelled "(none)". */
  confusion: Record<string, Record<string, number>>;
}

export const NO_ROUTE = '(none)';

/** Embeds rows once; scoring under many settings then costs only searches. */
export async function embedRows(
  router: SemanticRouter,
  rows: readonly LabelledRow[],
  onProgress?: (done: number, total: number) => void,
): Promise<{ vectors: Float32Array[]; texts: string[]; expected: Int32Array }> {
  const expected = new Int32Array(rows.length);
  rows.forEach((row, i) => {
    if (row === null || typeof row !== 'object' || typeof row.text !== 'string') {
      throw new SemrouteError(ErrorCode.INPUT_INVALID, `Labelled row ${i} needs a string "text"`, {
        path: `[${i}].text`,
        expected: 'string',
      });
    }
    if (row.label === null || row.label === undefined) {
      expected[i] = -1;
      return;
    }
    const index = router.routeIndexOf(row.label);
    if (index === undefined) {
      throw new SemrouteError(
        ErrorCode.ROUTE_NOT_FOUND,
        `Labelled row ${i} names unknown route "${row.label}"`,
        {
          path: `[${i}].label`,
          expected: 'a route name or null',
        },
      );
    }
    expected[i] = index;
  });
  const vectors = await router.encoder.embed(
    rows.map((r) => r.text),
    { onProgress },
  );
  return { vectors, texts: rows.map((r) => r.text), expected };
}

export function metricsFrom(
  router: SemanticRouter,
  ranked: readonly (readonly RouteScore[])[],
  expected: Int32Array,
  thresholds: ArrayLike<number>,
): Metrics {
  const confusion: Record<string, Record<string, number>> = {};
  let correct = 0;
  let inScope = 0;
  let inScopeCorrect = 0;
  let oos = 0;
  let oosCorrect = 0;
  ranked.forEach((candidates, i) => {
    const chosen = decide(candidates, thresholds);
    const predicted = chosen < 0 ? -1 : candidates[chosen]!.route;
    const want = expected[i]!;
    const ok = predicted === want;
    if (ok) correct++;
    if (want < 0) {
      oos++;
      if (ok) oosCorrect++;
    } else {
      inScope++;
      if (ok) inScopeCorrect++;
    }
    const e = want < 0 ? NO_ROUTE : router.routeNameAt(want);
    const p = predicted < 0 ? NO_ROUTE : router.routeNameAt(predicted);
    confusion[e] ??= {};
    const row = confusion[e];
    row[p] = (row[p] ?? 0) + 1;
  });
  return {
    rows: ranked.length,
    inScope,
    outOfScope: oos,
    accuracy: ranked.length === 0 ? 0 : correct / ranked.length,
    inScopeAccuracy: inScope === 0 ? 0 : inScopeCorrect / inScope,
    oosRecall: oos === 0 ? null : oosCorrect / oos,
    confusion,
  };
}

/** Probes every row once (search, centroid and lexical cosines); scorings are then cheap to try. */
export function probeAll(
  router: SemanticRouter,
  vectors: readonly Float32Array[],
  texts: readonly string[],
): Probe[] {
  return vectors.map((v, i) => router.probe(v, texts[i] ?? null));
}

export function rankAll(
  router: SemanticRouter,
  probes: readonly Probe[],
  scoring: { aggregation: Aggregation; topK: number },
): RouteScore[][] {
  return probes.map((p) => router.rank(p, scoring));
}

/** Metrics of the router as it stands (its thresholds and aggregation). */
export async function evaluate(router: SemanticRouter, rows: readonly LabelledRow[]): Promise<Metrics> {
  const { vectors, texts, expected } = await embedRows(router, rows);
  const thresholds = router.routes.map((r) => router.thresholdOf(r.name));
  return metricsFrom(
    router,
    rankAll(router, probeAll(router, vectors, texts), router.currentScoring),
    expected,
    thresholds,
  );
}
