/**
 * What a compiled router knows about its routes besides the vector index: which route each
 * utterance label belongs to, how many utterances each route has, the thresholds in force and
 * the scoring (aggregation, top-k), with a fit applied on top when one was made for these
 * settings. Rebuilt whenever the configuration changes.
 */
import { createHash } from 'node:crypto';
import type { RouterConfig } from '../config/router-config.js';
import { ErrorCode, SemrouteError } from '../errors.js';
import type { FitRecord } from './artefact.js';
import type { Scoring } from './aggregate.js';

export interface UtteranceRecord {
  /** Index of its route in the configuration. */
  route: number;
  text: string;
  template: string | undefined;
  vector: Float32Array;
}

export class RouteTable {
  readonly records = new Map<number, UtteranceRecord>();
  /** The next free utterance label (labels are never reused while the router lives). */
  nextLabel = 0;
  private routeIndex = new Map<string, number>();
  private sizes = new Int32Array(0);
  thresholds = new Float64Array(0);
  scoring: Scoring;
  fitted: FitRecord | undefined;

  constructor(private config: RouterConfig) {
    this.scoring = { aggregation: config.aggregation, topK: config.top_k };
  }

  get routerConfig(): RouterConfig {
    return this.config;
  }

  /** Adopts a (validated) configuration: scoring and thresholds back to its own, fit dropped. */
  reset(config: RouterConfig): void {
    this.config = config;
    this.scoring = { aggregation: config.aggregation, topK: config.top_k };
    this.fitted = undefined;
    this.rebuild();
  }

  add(label: number, record: UtteranceRecord): void {
    this.records.set(label, record);
    if (label >= this.nextLabel) this.nextLabel = label + 1;
  }

  /** Recomputes the per-route tables from the configuration and the records. */
  rebuild(): void {
    const routes = this.config.routes;
    this.routeIndex = new Map(routes.map((r, i) => [r.name, i]));
    this.sizes = new Int32Array(routes.length);
    for (const rec of this.records.values()) if (rec.route < this.sizes.length) this.sizes[rec.route]! += 1;
    this.thresholds = Float64Array.from(routes, (r) => r.score_threshold ?? this.config.score_threshold);
  }

  readonly routeOf = (label: number): number => this.records.get(label)?.route ?? -1;
  readonly sizeOf = (route: number): number => this.sizes[route] ?? 0;

  indexOf(name: string): number | undefined {
    return this.routeIndex.get(name);
  }

  nameAt(index: number): string {
    return this.config.routes[index]!.name;
  }

  thresholdOf(route: string): number {
    const i = this.routeIndex.get(route);
    if (i === undefined) throw new SemrouteError(ErrorCode.ROUTE_NOT_FOUND, `No route named "${route}"`);
    return this.thresholds[i]!;
  }

  /** Hash of the threshold settings a fit starts from: a fit made for other settings is not applied. */
  thresholdBasis(): string {
    const c = this.config;
    const basis = {
      t: c.score_threshold,
      a: c.aggregation,
      k: c.top_k,
      s: c.scoring,
      w: c.scoring === 'dense' ? null : c.hybrid_weights,
      r: c.routes.map((r) => [r.name, r.score_threshold ?? null]),
    };
    return createHash('sha256').update(JSON.stringify(basis)).digest('hex').slice(0, 16);
  }

  /** Applies a fit when it was made for the current settings; false otherwise. */
  applyFit(fit: FitRecord | undefined): boolean {
    if (fit === undefined || fit.basis !== this.thresholdBasis()) return false;
    this.fitted = fit;
    this.scoring = { aggregation: fit.aggregation, topK: fit.top_k };
    this.config.routes.forEach((r, i) => {
      const t = fit.thresholds[r.name];
      if (t !== undefined) this.thresholds[i] = t;
    });
    return true;
  }

  /** Records ordered by label, as the artefact stores them. */
  ordered(): Array<[number, UtteranceRecord]> {
    return [...this.records.entries()].sort((a, b) => a[0] - b[0]);
  }
}
