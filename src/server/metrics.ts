/** Prometheus metrics (prom-client), one registry per server. */
import { Counter, Histogram, Registry } from 'prom-client';
import type { EventListeners } from '../gateway/events.js';
import { HotCounter, HotHistogram } from './hot-metrics.js';

export class ProxyMetrics {
  readonly registry = new Registry();
  // The three a request touches every time are hot-metrics.ts's, with the same names and output.
  readonly requests = new HotCounter(
    'semroute_requests_total',
    'Requests by model and HTTP status',
    ['endpoint', 'model', 'status'],
    this.registry,
  );
  readonly latency = new HotHistogram(
    'semroute_request_duration_seconds',
    'Request latency by model and HTTP status',
    ['endpoint', 'model', 'status'],
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    this.registry,
  );
  readonly overhead = new HotHistogram(
    'semroute_overhead_seconds',
    'Time semroute adds to a request (total minus upstream)',
    ['endpoint'],
    [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1],
    this.registry,
  );
  readonly routes = new Counter({
    name: 'semroute_route_decisions_total',
    help: 'Semantic routing decisions',
    labelNames: ['router', 'route'],
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'semroute_retries_total',
    help: 'Upstream retries',
    labelNames: ['model', 'kind'],
    registers: [this.registry],
  });
  readonly fallbacks = new Counter({
    name: 'semroute_fallbacks_total',
    help: 'Fallbacks between model groups',
    labelNames: ['from', 'to'],
    registers: [this.registry],
  });
  readonly cooldowns = new Counter({
    name: 'semroute_cooldowns_total',
    help: 'Deployments put in cooldown',
    labelNames: ['model', 'deployment'],
    registers: [this.registry],
  });
  readonly cacheHits = new Counter({
    name: 'semroute_cache_hits_total',
    help: 'Responses served from cache',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly spend = new Counter({
    name: 'semroute_spend_usd_total',
    help: 'USD spent on upstream answers, at model_info prices',
    labelNames: ['router', 'tier', 'model', 'key_alias'],
    registers: [this.registry],
  });
  readonly saved = new Counter({
    name: 'semroute_saved_usd_total',
    help: 'USD a cost-quality decision saved against its most expensive candidate',
    labelNames: ['router', 'tier', 'model'],
    registers: [this.registry],
  });
  readonly difficulty = new Histogram({
    name: 'semroute_difficulty',
    help: 'Difficulty of the prompts a cost-quality router decided on',
    labelNames: ['router'],
    buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
    registers: [this.registry],
  });
  readonly routeScore = new Histogram({
    name: 'semroute_route_score',
    help: 'Score of the route a semantic router chose (the best candidate when none passed)',
    labelNames: ['router', 'route'],
    buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
    registers: [this.registry],
  });
  readonly routeMargin = new Histogram({
    name: 'semroute_route_margin',
    help: "A chosen route's score minus the runner-up's: thin margins are drift's first sign",
    labelNames: ['router', 'route'],
    buckets: [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1],
    registers: [this.registry],
  });
  readonly routeOutcomes = new Counter({
    name: 'semroute_route_outcomes_total',
    help: 'Semantic decisions by outcome: matched, below_threshold, out_of_vocabulary, no_text',
    labelNames: ['router', 'reason'],
    registers: [this.registry],
  });
  readonly shadow = new Counter({
    name: 'semroute_shadow_total',
    help: 'Shadow grading: requests graded, or skipped and why',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: 'semroute_config_reloads_total',
    help: 'Config reloads',
    labelNames: ['result'],
    registers: [this.registry],
  });

  /** Lines of the decision log: written, dropped (queue full or a failed write), files rotated. */
  watchDecisionLog(log: { counts: { written: number; dropped: number; rotated: number } }): void {
    new Counter({
      name: 'semroute_decision_log_lines_total',
      help: 'Decision log lines, by result (written, dropped)',
      labelNames: ['result'],
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc({ result: 'written' }, log.counts.written);
        this.inc({ result: 'dropped' }, log.counts.dropped);
      },
    });
  }

  /** Labelled children, so a request skips the label lookup. */
  private readonly served = new Map<string, { count(): void; observe(seconds: number): void }>();

  /** One finished request. Callers pass known model names only: labels must stay few. */
  request(endpoint: string, model: string, status: number, seconds: number): void {
    const key = `${endpoint}\u0000${model}\u0000${status}`;
    let child = this.served.get(key);
    if (child === undefined) {
      const labels = { endpoint, model, status: String(status) };
      const counter = this.requests.labels(labels);
      const histogram = this.latency.labels(labels);
      child = { count: () => counter.inc(), observe: (s) => histogram.observe(s) };
      this.served.set(key, child);
    }
    child.count();
    child.observe(seconds);
  }

  /** Gateway hooks feeding these metrics. */
  events(): EventListeners {
    return {
      retry: (_ctx, group, _d, error) => this.retries.inc({ model: group, kind: error.kind }),
      fallback: (_ctx, from, to) => this.fallbacks.inc({ from, to }),
      cooldown: (e) => this.cooldowns.inc({ model: e.deployment.group, deployment: e.deployment.id }),
      cacheHit: (_ctx, model) => this.cacheHits.inc({ model }),
      route: (_ctx, router, result) => {
        const route = result.name ?? '(default)';
        this.routes.inc({ router, route });
        this.routeOutcomes.inc({ router, reason: result.reason });
        if (result.reason === 'no_text') return;
        this.routeScore.observe({ router, route }, result.score);
        if (result.name !== null) {
          const second = result.candidates.find((c) => c.route !== result.name);
          this.routeMargin.observe(
            { router, route },
            second === undefined ? result.score : result.score - second.score,
          );
        }
      },
      planned: (_ctx, plan) => {
        if (plan.decision?.difficulty !== undefined)
          this.difficulty.observe({ router: plan.decision.router }, plan.decision.difficulty);
      },
      succeeded: (ctx, s) => {
        const d = s.served.decision;
        const labels = { router: d?.router ?? '', tier: d?.tier ?? '', model: s.served.model };
        if (s.costUsd !== undefined && s.costUsd > 0)
          this.spend.inc({ ...labels, key_alias: ctx.caller.alias ?? '' }, s.costUsd);
        if (s.savedUsd !== undefined && s.savedUsd > 0) this.saved.inc(labels, s.savedUsd);
      },
    };
  }
}
