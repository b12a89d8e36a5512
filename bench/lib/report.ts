/** Result rows, tables, the JSON/Markdown files and the SVG chart of `npm run bench`. */
import { cpus, totalmem } from 'node:os';
import { cpuFeatures } from '../../src/internal/cpu.js';

export interface ResultRow {
  suite: string;
  name: string;
  unit: string;
  n: number;
  p50: number | null;
  p99: number | null;
  mean: number | null;
  extra: Record<string, unknown>;
}

export function environment(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    cpu: cpu[0]?.model ?? 'unknown',
    // Which integer kernels onnxruntime ran: figures differ between CPUs with and without VNNI.
    cpuFlags: cpuFeatures().flags,
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    ...extra,
  };
}

/** Percentile of sorted numbers (nearest rank on the interpolated index). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = (sorted.length - 1) * p;
  const lo = Math.floor(idx);
  const hi = Math.ceil(idx);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (idx - lo);
}

export function summarize(samples: readonly number[]): { n: number; p50: number; p99: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    mean: sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length),
  };
}

const fmt = (x: number | null) =>
  x === null || Number.isNaN(x) ? '—' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(3);

function formatExtra(extra: Record<string, unknown>): string {
  return Object.entries(extra)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(4)) : String(v)}`)
    .join(', ');
}

export function markdownTables(rows: readonly ResultRow[]): string {
  const suites = [...new Set(rows.map((r) => r.suite))];
  return suites
    .map((suite) => {
      const lines = [
        `### ${suite}`,
        '',
        '| name | unit | n | p50 | p99 | mean | extra |',
        '|---|---|---|---|---|---|---|',
      ];
      for (const r of rows.filter((x) => x.suite === suite)) {
        lines.push(
          `| ${r.name} | ${r.unit} | ${r.n} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.mean)} | ${formatExtra(r.extra)} |`,
        );
      }
      return lines.join('\n');
    })
    .join('\n\n');
}

/** Search latency against index size, log-log, one line per index kind. */
export function searchChart(
  points: ReadonlyArray<{ kind: string; size: number; p50: number; p99: number }>,
): string {
  const W = 640;
  const H = 400;
  const m = { l: 70, r: 150, t: 40, b: 50 };
  const xs = points.map((p) => Math.log10(p.size));
  const ys = points.flatMap((p) => [Math.log10(Math.max(p.p50, 0.1)), Math.log10(Math.max(p.p99, 0.1))]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.floor(Math.min(...ys)), Math.ceil(Math.max(...ys))];
  const sx = (v: number) => m.l + ((Math.log10(v) - x0) / Math.max(1e-9, x1 - x0)) * (W - m.l - m.r);
  const sy = (v: number) =>
    H - m.b - ((Math.log10(Math.max(v, 0.1)) - y0) / Math.max(1e-9, y1 - y0)) * (H - m.t - m.b);
  const colours: Record<string, string> = { hnsw: '#1f77b4', exact: '#d62728' };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    '<title>Search latency vs index size</title>',
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">Search latency vs index size (512-d, log-log)</text>`,
  ];
  for (let e = y0; e <= y1; e++) {
    const y = sy(10 ** e);
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(
      `<text x="${m.l - 8}" y="${y + 4}" text-anchor="end">${10 ** e >= 1000 ? `${10 ** (e - 3)} ms` : `${10 ** e} µs`}</text>`,
    );
  }
  for (const size of [...new Set(points.map((p) => p.size))]) {
    parts.push(
      `<text x="${sx(size)}" y="${H - m.b + 18}" text-anchor="middle">${size >= 1000 ? `${size / 1000}k` : size}</text>`,
    );
  }
  parts.push(
    `<text x="${(W - m.r + m.l) / 2}" y="${H - 10}" text-anchor="middle">vectors in the index</text>`,
  );
  let legend = 0;
  for (const kind of [...new Set(points.map((p) => p.kind))]) {
    const colour = colours[kind] ?? '#2ca02c';
    for (const [stat, dash] of [
      ['p50', ''],
      ['p99', '5,4'],
    ] as const) {
      const line = points
        .filter((p) => p.kind === kind)
        .sort((a, b) => a.size - b.size)
        .map((p) => `${sx(p.size)},${sy(p[stat])}`)
        .join(' ');
      parts.push(
        `<polyline points="${line}" fill="none" stroke="${colour}" stroke-width="2" stroke-dasharray="${dash}"/>`,
      );
      const y = m.t + 10 + legend * 18;
      parts.push(
        `<line x1="${W - m.r + 15}" x2="${W - m.r + 45}" y1="${y}" y2="${y}" stroke="${colour}" stroke-width="2" stroke-dasharray="${dash}"/>`,
      );
      parts.push(`<text x="${W - m.r + 50}" y="${y + 4}">${kind} ${stat}</text>`);
      legend++;
    }
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** A histogram of route() latencies. */
export function histogramChart(title: string, samplesMs: readonly number[]): string {
  const W = 640;
  const H = 300;
  const m = { l: 50, r: 20, t: 40, b: 50 };
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const hi = percentile(sorted, 0.995);
  const lo = sorted[0] ?? 0;
  const bins = 40;
  const counts = new Array<number>(bins).fill(0);
  for (const s of sorted)
    if (s <= hi) counts[Math.min(bins - 1, Math.floor(((s - lo) / Math.max(1e-9, hi - lo)) * bins))]!++;
  const max = Math.max(...counts, 1);
  const bw = (W - m.l - m.r) / bins;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<title>${title}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${title}</text>`,
  ];
  counts.forEach((c, i) => {
    const h = (c / max) * (H - m.t - m.b);
    parts.push(
      `<rect x="${m.l + i * bw}" y="${H - m.b - h}" width="${bw - 1}" height="${h}" fill="#1f77b4"/>`,
    );
  });
  for (const q of [0, 0.5, 1]) {
    const v = lo + (hi - lo) * q;
    parts.push(
      `<text x="${m.l + (W - m.l - m.r) * q}" y="${H - m.b + 18}" text-anchor="middle">${v.toFixed(2)} ms</text>`,
    );
  }
  const p50 = percentile(sorted, 0.5);
  const p99 = percentile(sorted, 0.99);
  parts.push(
    `<text x="${W / 2}" y="${H - 10}" text-anchor="middle">p50 ${p50.toFixed(3)} ms · p99 ${p99.toFixed(3)} ms · n ${sorted.length}</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n');
}
