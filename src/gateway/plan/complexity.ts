/**
 * The complexity routers of a gateway (LiteLLM's `auto_router/complexity_router`), compiled when
 * it is created: each with its classifier (LiteLLM's heuristic, or semroute's difficulty model
 * and the encoder it reads embeddings from), its tiers checked against the model table. A
 * decision names the tier, the group it sends to, and why.
 */
import type { ComplexityRouterSpec, TierTarget } from '../../config/complexity-routers.js';
import type { EncoderPool } from '../../embeddings/pool.js';
import type { Encoder } from '../../embeddings/encoder.js';
import { ComplexityClassifier, TIERS, type Tier } from '../../difficulty/complexity.js';
import { loadDifficultyModel } from '../../difficulty/default-model.js';
import type { Ask } from '../../difficulty/features.js';
import type { DifficultyModel } from '../../difficulty/model.js';
import { ErrorCode, SemrouteError } from '../../errors.js';
import type { ModelTable } from '../models.js';

function nearestConfigured(spec: ComplexityRouterSpec, tier: Tier): Tier {
  const at = TIERS.indexOf(tier);
  let best: Tier | undefined;
  let distance = Number.POSITIVE_INFINITY;
  TIERS.forEach((t, i) => {
    const d = Math.abs(i - at);
    if ((spec.tiers[t]?.length ?? 0) > 0 && (d < distance || (d === distance && i > at))) {
      best = t;
      distance = d;
    }
  });
  return best ?? tier;
}

/** A cost-quality decision, as the planner made it (headers, events and /v1/route show it). */
export interface CostDecision {
  /** The model asked for (the router). */
  router: string;
  kind: 'complexity' | 'auto';
  tier?: Tier | undefined;
  tierLabel?: string | undefined;
  /** LiteLLM's cause: heuristic_scorer, reasoning_override, … or semroute's `difficulty`. */
  cause?: string | undefined;
  /** LiteLLM's heuristic score. */
  score?: number | undefined;
  signals?: readonly string[] | undefined;
  /** semroute's difficulty, 0–1. */
  difficulty?: number | undefined;
  /** The difficulty at or above which the strong side is chosen. */
  threshold?: number | undefined;
  /** Predicted quality of each candidate's answer (the difficulty model's). */
  quality?: Readonly<Record<string, number>> | undefined;
  /** The groups it chose between, and the one it chose. */
  candidates: readonly string[];
  chosen: string;
  /** The most expensive candidate: savings are measured against it. */
  baseline: string;
  /** `auto`: the cost/quality tradeoff it ranked with, 0 (quality) … 10 (cost). */
  tradeoff?: number | undefined;
  /** `auto`: each candidate's quality (0–10), price (USD per token) and blended score. */
  ranking?:
    | ReadonlyArray<{ group: string; quality: number | undefined; cost: number | undefined; score: number }>
    | undefined;
}

interface Compiled {
  spec: ComplexityRouterSpec;
  heuristic: ComplexityClassifier | undefined;
  difficulty: { model: DifficultyModel; encoder: Encoder } | undefined;
}

export class ComplexityRouters {
  private constructor(
    private readonly routers: Map<string, Compiled>,
    private readonly table: ModelTable,
    private readonly random: () => number,
  ) {}

  static async compile(
    specs: readonly ComplexityRouterSpec[],
    table: ModelTable,
    encoders: EncoderPool,
    random: () => number,
  ): Promise<ComplexityRouters> {
    const out = new Map<string, Compiled>();
    for (const spec of specs) {
      const groups = [
        ...table
          .list()
          .filter((m) => m.kind === 'group')
          .map((m) => m.id),
      ];
      for (const [tier, targets] of Object.entries(spec.tiers) as Array<[Tier, readonly TierTarget[]]>) {
        for (const t of targets) {
          if (!table.hasGroup(table.aliasTarget(t.group))) {
            throw new SemrouteError(
              ErrorCode.CONFIG_INVALID,
              `${spec.model}: complexity_router_config.tiers.${tier} names ${t.group}, which no model_list entry serves (groups: ${groups.join(', ')})`,
              { path: `complexity_router_config.tiers.${tier}`, expected: groups.join(' | ') },
            );
          }
        }
      }
      if (spec.defaultModel !== undefined && !table.hasGroup(table.aliasTarget(spec.defaultModel))) {
        throw new SemrouteError(
          ErrorCode.CONFIG_INVALID,
          `${spec.model}: complexity_router_default_model ${spec.defaultModel} is no model_list group (groups: ${groups.join(', ')})`,
          { path: 'complexity_router_default_model', expected: groups.join(' | ') },
        );
      }
      let difficulty: Compiled['difficulty'];
      if (spec.classifier === 'semroute') {
        const model = await loadDifficultyModel(spec.difficultyModel ?? 'default');
        // The model reads the embeddings it was trained on: the local encoder of that family.
        const family = model.artefact.encoder.split('@')[0]!.replace(/-int8$|-fp32$/, '');
        if (family !== 'use-lite')
          throw new SemrouteError(
            ErrorCode.CONFIG_INVALID,
            `${spec.model}: difficulty_model ${model.source} was trained on ${model.artefact.encoder} embeddings; semroute serves use-lite ones`,
            { path: 'complexity_router_config.difficulty_model' },
          );
        difficulty = { model, encoder: await encoders.get({ type: 'use-lite' }) };
      }
      out.set(spec.model, {
        spec,
        heuristic: spec.classifier === 'heuristic' ? new ComplexityClassifier(spec.settings) : undefined,
        difficulty,
      });
    }
    return new ComplexityRouters(out, table, random);
  }

  has(model: string): boolean {
    return this.routers.has(model);
  }

  get specs(): ComplexityRouterSpec[] {
    return [...this.routers.values()].map((r) => r.spec);
  }

  /** The tier of an ask, the group it goes to, and the tier's own params. */
  async decide(
    model: string,
    ask: Ask,
    signal?: AbortSignal,
  ): Promise<{
    decision: CostDecision;
    group: string;
    params: Readonly<Record<string, unknown>> | undefined;
  }> {
    const r = this.routers.get(model)!;
    const { spec } = r;
    let tier: Tier;
    let decision: Omit<CostDecision, 'candidates' | 'chosen' | 'baseline'>;
    if (r.difficulty !== undefined) {
      const [embedding] =
        ask.text === '' ? [undefined] : await r.difficulty.encoder.embed([ask.text], { signal });
      const prediction = ask.text === '' ? undefined : r.difficulty.model.predict(ask, embedding);
      const threshold = r.difficulty.model.artefact.operatingPoint.threshold;
      const b = spec.difficultyBoundaries ?? {
        simple_medium: threshold,
        medium_complex: threshold + (1 - threshold) / 3,
        complex_reasoning: threshold + (2 * (1 - threshold)) / 3,
      };
      const d = prediction?.difficulty;
      const byScale: Tier =
        d === undefined
          ? 'MEDIUM'
          : d < b.simple_medium
            ? 'SIMPLE'
            : d < b.medium_complex
              ? 'MEDIUM'
              : d < b.complex_reasoning
                ? 'COMPLEX'
                : 'REASONING';
      // The difficulty scale is semroute's own: a tier the config leaves out is served by the
      // nearest one it has (ties upward), never by the default model. With SIMPLE and COMPLEX
      // only, the hardest prompts go to COMPLEX, not to whatever default_model is.
      tier = nearestConfigured(spec, byScale);
      decision = {
        router: model,
        kind: 'complexity',
        cause: d === undefined ? 'default_fallback' : 'difficulty',
        difficulty: d,
        threshold: b.simple_medium,
        quality: prediction?.quality,
      };
      if (d === undefined && spec.defaultModel !== undefined)
        return this.finish(r, decision, 'MEDIUM', spec.defaultModel, undefined);
    } else {
      const h = r.heuristic!.classify(ask.text);
      tier = h.tier;
      if (h.escalated) tier = this.escalate(spec, tier);
      decision = { router: model, kind: 'complexity', cause: h.cause, score: h.score, signals: h.signals };
      if (h.cause === 'default_fallback' && spec.defaultModel !== undefined)
        return this.finish(r, decision, 'MEDIUM', spec.defaultModel, undefined);
    }
    const target = this.targetOf(spec, tier);
    return this.finish(r, decision, tier, target.group, target.params);
  }

  /** One configured tier up (LiteLLM's escalation keywords). */
  private escalate(spec: ComplexityRouterSpec, tier: Tier): Tier {
    for (let i = TIERS.indexOf(tier) + 1; i < TIERS.length; i++)
      if (spec.tiers[TIERS[i]!] !== undefined) return TIERS[i]!;
    return tier;
  }

  /** LiteLLM's rule: the tier's model (a list: one at random), else default_model, else MEDIUM. */
  private targetOf(spec: ComplexityRouterSpec, tier: Tier): TierTarget {
    const targets = spec.tiers[tier];
    if (targets !== undefined && targets.length > 0)
      return targets[Math.floor(this.random() * targets.length)]!;
    if (spec.defaultModel !== undefined) return { group: spec.defaultModel, params: undefined };
    const medium = spec.tiers.MEDIUM;
    if (medium !== undefined && medium.length > 0) return medium[0]!;
    throw new SemrouteError(
      ErrorCode.CONFIG_INVALID,
      `${spec.model}: no model configured for tier ${tier} and no default_model set`,
      {
        path: 'complexity_router_config.tiers',
      },
    );
  }

  private finish(
    r: Compiled,
    decision: Omit<CostDecision, 'candidates' | 'chosen' | 'baseline'>,
    tier: Tier,
    group: string,
    params: Readonly<Record<string, unknown>> | undefined,
  ) {
    const { spec } = r;
    const candidates = [
      ...new Set(TIERS.flatMap((t) => (spec.tiers[t] ?? []).map((x) => this.table.aliasTarget(x.group)))),
    ];
    // LiteLLM measures savings against the most severe configured tier.
    const severe = [...TIERS].reverse().find((t) => (spec.tiers[t]?.length ?? 0) > 0);
    const baseline = severe === undefined ? group : this.table.aliasTarget(spec.tiers[severe]![0]!.group);
    return {
      decision: {
        ...decision,
        tier,
        tierLabel: spec.labels[tier],
        candidates,
        chosen: this.table.aliasTarget(group),
        baseline,
      },
      group: this.table.aliasTarget(group),
      params,
    };
  }
}
