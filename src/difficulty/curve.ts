/**
 * The cost-quality curve of a router on graded outcomes, as RouteLLM scores routers: each prompt
 * gets a score (higher: send to the strong model); at a strong-call share p the top p·n prompts
 * go to the strong model, the rest to the weak one. Q(p) is the mean outcome, PGR(p) =
 * (Q(p) − Q_weak) / (Q_strong − Q_weak), APGR the area under PGR over p in [0, 1] (random: 0.5),
 * CPT(x) the smallest strong share whose PGR reaches x. Ties count in expectation over a random
 * order: a router that cannot tell two prompts apart gets no credit for their order.
 */

export interface CurveSummary {
  rows: number;
  apgr: number;
  /** Smallest strong-call share with PGR ≥ 50% / 80% (0–1). */
  cpt50: number;
  cpt80: number;
  /** Mean quality at 20% and 50% strong calls. */
  q20: number;
  q50: number;
  qWeak: number;
  qStrong: number;
}

export interface Curve extends CurveSummary {
  /** PGR at each share k/n, k = 0…n. */
  pgr: Float64Array;
  /** Mean quality at each share k/n. */
  quality: Float64Array;
}

export function costQualityCurve(
  scores: ArrayLike<number>,
  weak: ArrayLike<number>,
  strong: ArrayLike<number>,
): Curve {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const gain = new Float64Array(n + 1);
  let qWeak = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    qWeak += weak[i]!;
    total += strong[i]! - weak[i]!;
  }
  for (let i = 0; i < n; ) {
    let j = i;
    let g = 0;
    while (j < n && scores[order[j]!] === scores[order[i]!]) {
      g += strong[order[j]!]! - weak[order[j]!]!;
      j++;
    }
    const m = j - i;
    for (let t = 1; t <= m; t++) gain[i + t] = gain[i]! + (g * t) / m;
    i = j;
  }
  const pgr = new Float64Array(n + 1);
  const quality = new Float64Array(n + 1);
  for (let k = 0; k <= n; k++) {
    pgr[k] = total === 0 ? 0 : gain[k]! / total;
    quality[k] = (qWeak + gain[k]!) / Math.max(1, n);
  }
  let area = 0;
  for (let k = 1; k <= n; k++) area += (pgr[k - 1]! + pgr[k]!) / 2;
  const cpt = (x: number) => {
    for (let k = 0; k <= n; k++) if (pgr[k]! >= x) return k / Math.max(1, n);
    return 1;
  };
  const at = (p: number) => quality[Math.round(p * n)]!;
  return {
    rows: n,
    apgr: n === 0 ? 0 : area / n,
    cpt50: cpt(0.5),
    cpt80: cpt(0.8),
    q20: at(0.2),
    q50: at(0.5),
    qWeak: qWeak / Math.max(1, n),
    qStrong: (qWeak + total) / Math.max(1, n),
    pgr,
    quality,
  };
}

export function summary(curve: Curve): CurveSummary {
  const { pgr: _p, quality: _q, ...rest } = curve;
  return rest;
}

/** The score quantiles of held-out prompts (101 points, 0%…100%): difficulty = a score's place among them. */
export function quantiles(scores: ArrayLike<number>, points = 101): number[] {
  const sorted = Float64Array.from(scores).sort();
  return Array.from({ length: points }, (_, i) => {
    if (sorted.length === 0) return 0;
    const at = (i / (points - 1)) * (sorted.length - 1);
    const lo = Math.floor(at);
    const hi = Math.ceil(at);
    return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
  });
}

/** Where a score sits among the quantiles, 0–1 (interpolated; clamped at the ends). */
export function placeOf(score: number, q: readonly number[]): number {
  const last = q.length - 1;
  if (last < 1 || score <= q[0]!) return 0;
  if (score >= q[last]!) return 1;
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (q[mid]! <= score) lo = mid;
    else hi = mid;
  }
  const span = q[hi]! - q[lo]!;
  return (lo + (span === 0 ? 0 : (score - q[lo]!) / span)) / last;
}

/** An SVG of one or more curves (quality against strong-call share). */
export function curveSvg(series: Array<{ label: string; curve: Curve }>, title: string): string {
  const W = 640;
  const H = 400;
  const pad = 50;
  const lo = Math.min(...series.map((s) => Math.min(s.curve.qWeak, s.curve.qStrong)));
  const hi = Math.max(...series.map((s) => Math.max(...s.curve.quality)));
  const y = (q: number) => H - pad - ((q - lo) / Math.max(1e-9, hi - lo)) * (H - 2 * pad);
  const x = (p: number) => pad + p * (W - 2 * pad);
  const colors = ['#888', '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
  const lines = series.map((s, i) => {
    const n = s.curve.quality.length - 1;
    const step = Math.max(1, Math.floor(n / 200));
    const pts: string[] = [];
    for (let k = 0; k <= n; k += step)
      pts.push(`${x(k / n).toFixed(1)},${y(s.curve.quality[k]!).toFixed(1)}`);
    pts.push(`${x(1).toFixed(1)},${y(s.curve.quality[n]!).toFixed(1)}`);
    const color = colors[i % colors.length];
    return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/><text x="${W - pad - 190}" y="${pad + 16 * i}" fill="${color}" font-size="12">${escapeXml(s.label)} (APGR ${s.curve.apgr.toFixed(3)})</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="black"/>
<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="black"/>
<text x="${W / 2}" y="${H - 12}" text-anchor="middle" font-size="12">share of strong-model calls</text>
<text x="14" y="${H / 2}" font-size="12" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">mean quality</text>
<text x="${pad}" y="${H - pad + 14}" font-size="10" text-anchor="middle">0%</text>
<text x="${W - pad}" y="${H - pad + 14}" font-size="10" text-anchor="middle">100%</text>
<text x="${pad - 4}" y="${y(lo) + 3}" font-size="10" text-anchor="end">${lo.toFixed(3)}</text>
<text x="${pad - 4}" y="${y(hi) + 3}" font-size="10" text-anchor="end">${hi.toFixed(3)}</text>
${lines.join('\n')}
</svg>
`;
}

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
