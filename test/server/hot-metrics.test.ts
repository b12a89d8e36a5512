/**
 * The hot-path metrics against prom-client's own Counter and Histogram: the same /metrics text
 * line for line, the same JSON for the cluster's aggregation, and reset alike.
 */
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter, HotHistogram } from '../../src/server/hot-metrics.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];
const LABELS = ['endpoint', 'model', 'status'];

function pair() {
  const theirs = new Registry();
  const ours = new Registry();
  const counter = new Counter({
    name: 'req_total',
    help: 'Requests',
    labelNames: LABELS,
    registers: [theirs],
  });
  const histogram = new Histogram({
    name: 'dur_seconds',
    help: 'Latency',
    labelNames: LABELS,
    buckets: BOUNDS,
    registers: [theirs],
  });
  const hotCounter = new HotCounter('req_total', 'Requests', LABELS, ours);
  const hotHistogram = new HotHistogram('dur_seconds', 'Latency', LABELS, BOUNDS, ours);
  return { theirs, ours, counter, histogram, hotCounter, hotHistogram };
}

describe('hot metrics', () => {
  it("write prom-client's text and JSON for the same observations", async () => {
    const m = pair();
    const sets = [
      { endpoint: 'chat', model: 'general', status: '200' },
      { endpoint: 'chat', model: 'coding "fast"\\', status: '429' },
      { endpoint: 'embedding', model: 'e', status: '200' },
    ];
    const values = [0, 0.0005, 0.001, 0.0011, 0.05, 0.1, 0.7, 1, 3, 120];
    const children = sets.map((labels) => ({
      c: m.hotCounter.labels(labels),
      h: m.hotHistogram.labels(labels),
    }));
    values.forEach((v, i) => {
      const k = i % sets.length;
      m.counter.inc(sets[k]!, i % 3 === 0 ? 2 : 1);
      m.histogram.observe(sets[k]!, v);
      children[k]!.c.inc(i % 3 === 0 ? 2 : 1);
      children[k]!.h.observe(v);
    });
    expect(await m.ours.metrics()).toBe(await m.theirs.metrics());
    expect(await m.ours.getMetricsAsJSON()).toEqual(await m.theirs.getMetricsAsJSON());
    // The cluster's primary sums the workers' JSON: the same totals either way.
    const aggregate = async (r: Registry) =>
      await AggregatorRegistry.aggregate([await r.getMetricsAsJSON(), await r.getMetricsAsJSON()]).metrics();
    expect(await aggregate(m.ours)).toBe(await aggregate(m.theirs));
  });

  it('reset drops the label sets; a kept child counts again from zero', async () => {
    const m = pair();
    const labels = { endpoint: 'chat', model: 'general', status: '200' };
    const h = m.hotHistogram.labels(labels);
    const c = m.hotCounter.labels(labels);
    h.observe(0.5);
    c.inc();
    m.histogram.observe(labels, 0.5);
    m.counter.inc(labels);
    m.ours.resetMetrics();
    m.theirs.resetMetrics();
    expect(await m.ours.metrics()).toBe(await m.theirs.metrics());
    h.observe(0.002);
    c.inc(3);
    m.histogram.observe(labels, 0.002);
    m.counter.inc(labels, 3);
    expect(await m.ours.metrics()).toBe(await m.theirs.metrics());
  });

  it('refuses what prom-client refuses: unknown labels, values that are not numbers, counting down', () => {
    const m = pair();
    expect(() => m.hotHistogram.labels({ endpoint: 'chat', route: 'x' })).toThrow(/route/);
    const labels = { endpoint: 'chat', model: 'general', status: '200' };
    expect(() => m.hotHistogram.labels(labels).observe(Number.NaN)).toThrow(TypeError);
    expect(() => m.hotCounter.labels(labels).inc(-1)).toThrow(/-1/);
  });
});
