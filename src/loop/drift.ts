/**
 * Drift: the traffic the routes no longer catch. From a decision log, the prompts no route took
 * (the default route, out of vocabulary, below threshold) and those decided by a thin margin
 * over the runner-up, grouped by meaning (the router's own encoder), each group with what to do
 * about it: add its most typical prompts as utterances of the route it keeps landing near, or
 * make it a route of its own. Deterministic: the same log gives the same clusters.
 */
import type { Encoder } from '../embeddings/encoder.js';
import type { DecisionLine } from './decision-log.js';
import { askOfLine, type ReadLog } from './log-reader.js';

export interface DriftOptions {
  /** A matched decision closer than this to its runner-up is thin. Default 0.05. */
  margin?: number | undefined;
  /** Cosine at which a prompt joins a cluster. Default 0.6. */
  similarity?: number | undefined;
  /** Smallest cluster reported. Default 3. */
  minSize?: number | undefined;
  /** Only this router's decisions. */
  router?: string | undefined;
}

export interface DriftCluster {
  size: number;
  /** Why its prompts are here: unrouted (no route) and thin (a narrow win). */
  why: { unrouted: number; thin: number };
  /** The route they land nearest to most often, and how often (share of the cluster). */
  nearest: { route: string; share: number } | undefined;
  /** `add_utterances` to `nearest`, or `new_route` (with a name made from its commonest words). */
  proposal:
    | { action: 'add_utterances'; route: string; utterances: string[] }
    | { action: 'new_route'; name: string; utterances: string[] };
  /** Every prompt of the cluster (its most typical first), with its request id. */
  prompts: Array<{ id: string; text: string }>;
}

export interface DriftReport {
  decisions: number;
  considered: number;
  unrouted: number;
  thin: number;
  withoutPrompt: number;
  clusters: DriftCluster[];
}

const STOP = new Set(
  'a an the to of in on for and or is are was be i me my you your it this that how what can do does with please want need'.split(
    ' ',
  ),
);

function nameOf(texts: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const t of texts)
    for (const w of new Set(t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []))
      if (!STOP.has(w) && w.length > 2) counts.set(w, (counts.get(w) ?? 0) + 1);
  const top = [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 2)
    .map(([w]) => w);
  return top.length > 0 ? top.join('_') : 'new_route';
}

export async function drift(
  log: ReadLog,
  encoder: Encoder,
  options: DriftOptions = {},
): Promise<DriftReport> {
  const marginCut = options.margin ?? 0.05;
  const similarity = options.similarity ?? 0.6;
  const minSize = options.minSize ?? 3;
  const picked: Array<{ line: DecisionLine; text: string; unrouted: boolean }> = [];
  let withoutPrompt = 0;
  let unrouted = 0;
  let thin = 0;
  for (const line of log.decisions) {
    if (line.kind !== 'semantic' || (options.router !== undefined && line.router !== options.router))
      continue;
    const isUnrouted = line.route === null;
    const isThin = !isUnrouted && line.margin !== null && line.margin < marginCut;
    if (!isUnrouted && !isThin) continue;
    const ask = askOfLine(line);
    if (ask === undefined || ask.text === '') {
      withoutPrompt++;
      continue;
    }
    if (isUnrouted) unrouted++;
    else thin++;
    picked.push({ line, text: ask.text, unrouted: isUnrouted });
  }
  const vectors = await encoder.embed(picked.map((p) => p.text));
  // Leader clustering in log order: each prompt joins the first cluster whose centroid it is
  // close enough to (the centroid updated as members join), else starts one.
  const clusters: Array<{ sum: Float64Array; members: number[] }> = [];
  const cosine = (sum: Float64Array, v: Float32Array) => {
    let dot = 0;
    let norm = 0;
    for (let d = 0; d < v.length; d++) {
      dot += sum[d]! * v[d]!;
      norm += sum[d]! * sum[d]!;
    }
    return norm === 0 ? 0 : dot / Math.sqrt(norm);
  };
  vectors.forEach((v, i) => {
    let best = -1;
    let bestScore = similarity;
    clusters.forEach((c, k) => {
      const s = cosine(c.sum, v);
      if (s >= bestScore) {
        best = k;
        bestScore = s;
      }
    });
    if (best < 0) {
      clusters.push({ sum: Float64Array.from(v), members: [i] });
      return;
    }
    const c = clusters[best]!;
    for (let d = 0; d < v.length; d++) c.sum[d]! += v[d]!;
    c.members.push(i);
  });
  const out: DriftCluster[] = clusters
    .filter((c) => c.members.length >= minSize)
    .map((c) => {
      const typical = [...c.members].sort(
        (a, b) => cosine(c.sum, vectors[b]!) - cosine(c.sum, vectors[a]!) || a - b,
      );
      const nearestCounts = new Map<string, number>();
      for (const i of c.members) {
        const top = picked[i]!.line.candidates[0]?.name;
        if (top !== undefined) nearestCounts.set(top, (nearestCounts.get(top) ?? 0) + 1);
      }
      const [route, n] = [...nearestCounts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0] ?? [
        undefined,
        0,
      ];
      const share = route === undefined ? 0 : n / c.members.length;
      const utterances = typical.slice(0, 3).map((i) => picked[i]!.text);
      const texts = c.members.map((i) => picked[i]!.text);
      return {
        size: c.members.length,
        why: {
          unrouted: c.members.filter((i) => picked[i]!.unrouted).length,
          thin: c.members.filter((i) => !picked[i]!.unrouted).length,
        },
        nearest: route === undefined ? undefined : { route, share },
        // Mostly near one route: its utterances miss these phrasings. Spread out: a topic of its own.
        proposal:
          route !== undefined && share >= 0.6
            ? { action: 'add_utterances' as const, route, utterances }
            : { action: 'new_route' as const, name: nameOf(texts), utterances },
        prompts: typical.map((i) => ({ id: picked[i]!.line.id, text: picked[i]!.text })),
      };
    })
    .sort((a, b) => b.size - a.size);
  return {
    decisions: log.counts.decisions,
    considered: picked.length,
    unrouted,
    thin,
    withoutPrompt,
    clusters: out,
  };
}
