/**
 * The per-request metrics (a request counter and two latency histograms) as prom-client metrics
 * whose labelled children are plain objects: an observe is a bucket search and three additions.
 * prom-client's own children validate their labels and hash them on every call (~8 µs of a
 * proxied request's CPU, bench proxy profile). These register in the same registry, export in
 * prom-client's shapes (`get()` for the cluster's aggregation, `getForPromString()` for the text
 * format), so /metrics reads as before, line for line (test/server/hot-metrics.test.ts).
 */
import type { Registry } from 'prom-client';

interface Sample {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName?: string;
  /** prom-client writes null on every bucket (no exemplars kept). */
  exemplar?: null;
}

interface Exported {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: Sample[];
  aggregator: 'sum';
}

/** Registers `metric` as prom-client's Registry takes any object with its metric interface. */
function register(registry: Registry, metric: object): void {
  (registry as unknown as { registerMetric(m: object): void }).registerMetric(metric);
}

function checkLabels(name: string, labelNames: readonly string[], labels: Record<string, string>): void {
  for (const key of Object.keys(labels))
    if (!labelNames.includes(key))
      throw new Error(`${name}: label "${key}" is not one of ${labelNames.join(', ')}`);
}

export interface HotHistogramChild {
  observe(value: number): void;
}

export class HotHistogram {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly children = new Map<
    string,
    { labels: Record<string, string>; counts: Float64Array; sum: number; count: number; generation: number }
  >();
  /** Bumped by reset(): a child kept by a caller starts again from zero on its next observe. */
  private generation = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly upperBounds: readonly number[],
    registry: Registry,
  ) {
    register(registry, this);
  }

  /** The child of one label set: made once, kept by the caller. */
  labels(labels: Record<string, string>): HotHistogramChild {
    checkLabels(this.name, this.labelNames, labels);
    const key = this.labelNames.map((n) => labels[n] ?? '').join('\u0000');
    let child = this.children.get(key);
    if (child === undefined) {
      child = {
        labels: { ...labels },
        counts: new Float64Array(this.upperBounds.length),
        sum: 0,
        count: 0,
        generation: this.generation,
      };
      this.children.set(key, child);
    }
    const state = child;
    const bounds = this.upperBounds;
    return {
      observe: (value) => {
        if (!Number.isFinite(value))
          throw new TypeError(`${this.name}: value is not a valid number: ${value}`);
        if (state.generation !== this.generation) {
          state.generation = this.generation;
          state.counts.fill(0);
          state.sum = 0;
          state.count = 0;
          this.children.set(key, state);
        }
        // As prom-client: the first bucket whose bound is at least the value; none above the last.
        for (let i = 0; i < bounds.length; i++) {
          if (value <= bounds[i]!) {
            state.counts[i]! += 1;
            break;
          }
        }
        state.sum += value;
        state.count += 1;
      },
    };
  }

  async getForPromString(): Promise<Exported> {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const child of this.children.values()) {
      let acc = 0;
      this.upperBounds.forEach((le, i) => {
        acc += child.counts[i]!;
        values.push({
          labels: { le },
          sharedLabels: child.labels,
          value: acc,
          metricName: bucket,
          exemplar: null,
        });
      });
      values.push({
        labels: { le: '+Inf' },
        sharedLabels: child.labels,
        value: child.count,
        metricName: bucket,
        exemplar: null,
      });
      values.push({
        labels: {},
        sharedLabels: child.labels,
        value: child.sum,
        metricName: `${this.name}_sum`,
      });
      values.push({
        labels: {},
        sharedLabels: child.labels,
        value: child.count,
        metricName: `${this.name}_count`,
      });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** With each sample's labels in one object, as the cluster aggregation reads them. */
  async get(): Promise<Exported> {
    const exported = await this.getForPromString();
    exported.values = exported.values.map(({ sharedLabels, labels, ...rest }) => ({
      ...rest,
      labels: { ...labels, ...sharedLabels },
    }));
    return exported;
  }

  /** Drops every label set, as prom-client's reset does. */
  reset(): void {
    this.children.clear();
    this.generation++;
  }
}

export interface HotCounterChild {
  inc(by?: number): void;
}

export class HotCounter {
  readonly type = 'counter' as const;
  readonly aggregator = 'sum' as const;
  private readonly children = new Map<
    string,
    { labels: Record<string, string>; value: number; generation: number }
  >();
  private generation = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    register(registry, this);
  }

  labels(labels: Record<string, string>): HotCounterChild {
    checkLabels(this.name, this.labelNames, labels);
    const key = this.labelNames.map((n) => labels[n] ?? '').join('\u0000');
    let child = this.children.get(key);
    if (child === undefined) {
      child = { labels: { ...labels }, value: 0, generation: this.generation };
      this.children.set(key, child);
    }
    const state = child;
    return {
      inc: (by = 1) => {
        if (!Number.isFinite(by) || by < 0) throw new Error(`${this.name}: cannot increase by ${by}`);
        if (state.generation !== this.generation) {
          state.generation = this.generation;
          state.value = 0;
          this.children.set(key, state);
        }
        state.value += by;
      },
    };
  }

  async get(): Promise<Exported> {
    const values = [...this.children.values()].map((c) => ({ value: c.value, labels: c.labels }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Drops every label set, as prom-client's reset does. */
  reset(): void {
    this.children.clear();
    this.generation++;
  }
}
