/**
 * `semroute lint`: what is wrong or weak in a router's routes, found on its compiled vectors.
 *
 * Each utterance is routed as a query with itself left out (leave-one-out: its own kNN hit
 * dropped, its vector taken out of its route's centroid and its words out of its route's
 * lexical document), which is how an unseen paraphrase of it would score. From that:
 * - errors: a route whose threshold not even its own utterances reach (it can never be
 *   chosen); the same utterance in two routes; a route the encoder cannot read at all;
 * - warnings: a threshold no utterance reaches when left out; utterances that land on another
 *   route (with the pair); near duplicates across routes; routes with one utterance; templates
 *   that expand into near copies of each other.
 */
import { decide } from './aggregate.js';
import type { Probe } from './scoring.js';
import type { SemanticRouter } from './semantic-router.js';

export type LintSeverity = 'error' | 'warning';

export interface LintFinding {
  severity: LintSeverity;
  /** Stable name of the check. */
  code:
    | 'threshold_unreachable'
    | 'threshold_loo'
    | 'duplicate_utterance'
    | 'confused_utterance'
    | 'near_duplicate'
    | 'single_utterance'
    | 'template_near_copies'
    | 'unrepresented_utterance';
  route: string;
  message: string;
  details?: Record<string, unknown> | undefined;
}

export interface LintReport {
  routes: number;
  utterances: number;
  errors: LintFinding[];
  warnings: LintFinding[];
}

export interface LintOptions {
  /**
   * Cosine at or above which two utterances of different routes are near duplicates. Default
   * 0.85: with the default model a sentence and itself plus "please" are 0.88, a paraphrase 0.84.
   */
  nearDuplicate?: number | undefined;
  /**
   * Mean cosine of a template's neighbouring variants at or above which they are near copies.
   * Default 0.92: "…in Python" / "…in Java" are 0.87 (kept apart), "…thanks" / "…thank you" 0.98.
   */
  templateSimilarity?: number | undefined;
  /** Variants a template must have before its spread is checked. Default 10. */
  templateMinVariants?: number | undefined;
  /** Confusions listed per route at most. Default 5. */
  maxPairs?: number | undefined;
}

const dot = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** cos(u, S − u) for a unit u, from |S| and cos(u, S/|S|): a member's score against its group without it. */
function withoutSelf(norm: number, cos: number): number {
  const rest = norm * norm - 2 * norm * cos + 1;
  return rest <= 1e-9 ? 0 : (norm * cos - 1) / Math.sqrt(rest);
}

export function lintRouter(router: SemanticRouter, options: LintOptions = {}): LintReport {
  const { config, utterances, lexicalRouteNorms } = router.inspect();
  const names = config.routes.map((r) => r.name);
  const findings: LintFinding[] = [];
  const add = (f: LintFinding) => findings.push(f);
  const maxPairs = options.maxPairs ?? 5;
  const dims = utterances[0]?.vector.length ?? 0;

  // Dense sums per route, for centroids without the utterance itself.
  const sums = names.map(() => new Float32Array(dims));
  for (const u of utterances) {
    const sum = sums[u.route]!;
    for (let d = 0; d < dims; d++) sum[d]! += u.vector[d]!;
  }
  const centroidNorms = sums.map((s) => Math.sqrt(dot(s, s)));

  // Leave-one-out decisions.
  const thresholds = Float64Array.from(config.routes, (r) => router.thresholdOf(r.name));
  const reaches = new Array<boolean>(names.length).fill(false);
  const reachesVerbatim = new Array<boolean>(names.length).fill(false);
  const confusions = names.map(() => [] as Array<{ utterance: string; to: string; score: number }>);
  for (const u of utterances) {
    const probe = router.probe(u.vector, u.text);
    const verbatim = router.rank(probe).find((c) => c.route === u.route);
    if (verbatim !== undefined && verbatim.score >= thresholds[u.route]!) reachesVerbatim[u.route] = true;
    const keep = probe.hits.labels.map((l) => l !== u.label);
    const hits = {
      labels: probe.hits.labels.filter((_, i) => keep[i]),
      scores: probe.hits.scores.filter((_, i) => keep[i]),
    };
    // The trained head learned this utterance: its order would vouch for the utterance it is
    // asked about. Without it the candidates are ordered by the hybrid score, which the
    // leave-one-out parts above have already taken the utterance out of.
    const loo: Probe = { ...probe, hits, head: undefined };
    if (probe.centroid !== undefined) {
      loo.centroid = Float64Array.from(probe.centroid);
      loo.centroid[u.route] = withoutSelf(centroidNorms[u.route]!, probe.centroid[u.route]!);
    }
    if (probe.lexical !== undefined && lexicalRouteNorms !== undefined) {
      loo.lexical = Float64Array.from(probe.lexical);
      loo.lexical[u.route] = withoutSelf(lexicalRouteNorms[u.route]!, probe.lexical[u.route]!);
    }
    const ranked = router.rank(loo);
    const own = ranked.find((c) => c.route === u.route);
    if (own !== undefined && own.score >= router.thresholdOf(names[u.route]!)) reaches[u.route] = true;
    const chosen = decide(ranked, thresholds);
    const top = ranked[0];
    if (top !== undefined && top.route !== u.route && (chosen < 0 || ranked[chosen]!.route !== u.route)) {
      confusions[u.route]!.push({ utterance: u.text, to: names[top.route]!, score: top.score });
    }
  }
  names.forEach((name, r) => {
    const count = utterances.filter((u) => u.route === r).length;
    if (count === 1) {
      add({
        severity: 'warning',
        code: 'single_utterance',
        route: name,
        message: `${name} has one utterance: its score rests on one example; add a few paraphrases`,
      });
    }
    if (!reachesVerbatim[r]) {
      add({
        severity: 'error',
        code: 'threshold_unreachable',
        route: name,
        message: `${name}: not even its own utterances, routed as they are, reach its threshold ${thresholds[r]}: it can never be chosen; lower the threshold`,
        details: { threshold: thresholds[r] },
      });
    } else if (count > 1 && !reaches[r]) {
      add({
        severity: 'warning',
        code: 'threshold_loo',
        route: name,
        message: `${name}: none of its ${count} utterances, left out and routed as an unseen paraphrase would be, reaches its threshold ${thresholds[r]}: add utterances that cover each other, or lower the threshold`,
        details: { threshold: thresholds[r] },
      });
    }
    const confused = confusions[r]!;
    if (confused.length > 0) {
      add({
        severity: 'warning',
        code: 'confused_utterance',
        route: name,
        message: `${name}: ${confused.length} of its utterances, left out and routed, land on another route: ${confused
          .slice(0, maxPairs)
          .map((c) => `"${c.utterance}" → ${c.to} (${c.score.toFixed(3)})`)
          .join('; ')}`,
        details: { pairs: confused.slice(0, maxPairs) },
      });
    }
  });

  // Utterances the encoder cannot read (a script its vocabulary lacks): they all look alike to it.
  const coverage = router.encoder.coverage?.bind(router.encoder);
  if (coverage !== undefined) {
    names.forEach((name, r) => {
      const own = utterances.filter((u) => u.route === r);
      const unreadable = own.filter((u) => coverage(u.text) < config.min_coverage);
      if (unreadable.length === 0) return;
      add({
        severity: unreadable.length === own.length ? 'error' : 'warning',
        code: 'unrepresented_utterance',
        route: name,
        message: `${name}: ${unreadable.length} of ${own.length} utterances are mostly characters ${router.encoder.id} cannot read (e.g. "${unreadable[0]!.text}", ${Math.round(coverage(unreadable[0]!.text) * 100)}%): use a multilingual onnx model (semroute models pull Xenova/paraphrase-multilingual-MiniLM-L12-v2) or "encoder_type": "openai"`,
        details: { utterances: unreadable.map((u) => u.text) },
      });
    });
  }

  // The same text in two routes, and near duplicates across routes.
  const nearDuplicate = options.nearDuplicate ?? 0.85;
  const byText = new Map<string, number>();
  const reported = new Set<string>();
  for (const u of utterances) {
    const other = byText.get(u.text.trim().toLowerCase());
    if (other !== undefined && other !== u.route) {
      add({
        severity: 'error',
        code: 'duplicate_utterance',
        route: names[u.route]!,
        message: `"${u.text}" is an utterance of both ${names[other]} and ${names[u.route]}: a query like it cannot tell them apart`,
        details: { routes: [names[other], names[u.route]] },
      });
    } else byText.set(u.text.trim().toLowerCase(), u.route);
  }
  const byLabel = new Map(utterances.map((u) => [u.label, u]));
  for (const u of utterances) {
    const hits = router.search(u.vector);
    for (const [i, label] of hits.labels.entries()) {
      const score = hits.scores[i]!;
      if (score < nearDuplicate) break;
      const v = byLabel.get(label);
      if (v === undefined || v.route === u.route || v.text.toLowerCase() === u.text.toLowerCase()) continue;
      const key = [u.label, v.label].sort().join(':');
      if (reported.has(key)) continue;
      reported.add(key);
      add({
        severity: 'warning',
        code: 'near_duplicate',
        route: names[u.route]!,
        message: `"${u.text}" (${names[u.route]}) and "${v.text}" (${names[v.route]}) are near duplicates (cosine ${score.toFixed(3)})`,
        details: { other: names[v.route], cosine: score },
      });
    }
  }

  // Templates whose variants are near copies of each other.
  const minVariants = options.templateMinVariants ?? 10;
  const similar = options.templateSimilarity ?? 0.92;
  const byTemplate = new Map<string, Array<(typeof utterances)[number]>>();
  for (const u of utterances) {
    if (u.template === undefined) continue;
    const key = `${u.route}\u0000${u.template}`;
    const list = byTemplate.get(key) ?? [];
    list.push(u);
    byTemplate.set(key, list);
  }
  for (const variants of byTemplate.values()) {
    if (variants.length < minVariants) continue;
    // Neighbouring pairs are enough to see whether the slot values change the meaning at all.
    let sum = 0;
    for (let i = 1; i < variants.length; i++) sum += dot(variants[i - 1]!.vector, variants[i]!.vector);
    const mean = sum / (variants.length - 1);
    if (mean < similar) continue;
    const first = variants[0]!;
    add({
      severity: 'warning',
      code: 'template_near_copies',
      route: names[first.route]!,
      message: `template "${first.template}" expands into ${variants.length} variants that are near copies (mean cosine ${mean.toFixed(3)}): they crowd the nearest-utterance list; fewer slot values would do`,
      details: { variants: variants.length, meanCosine: mean },
    });
  }

  return {
    routes: names.length,
    utterances: utterances.length,
    errors: findings.filter((f) => f.severity === 'error'),
    warnings: findings.filter((f) => f.severity === 'warning'),
  };
}
