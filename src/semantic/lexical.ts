/**
 * The lexical side of the hybrid score: TF-IDF cosine between a query and each route, where a
 * route is one document (the normalised sum of its utterances' TF-IDF vectors).
 *
 * Features: lowercase word unigrams and bigrams, and character 3–5-grams inside each word
 * (padded with `<` `>` so a word's start and end count). Term frequency is sublinear
 * (1 + ln tf), idf is smoothed (ln((1 + N) / (1 + df)) + 1, N utterances), every vector is L2
 * normalised. A query's features that no utterance has stay in its vector (with the idf of an
 * unseen feature): a query mostly made of words no route uses scores low everywhere, which is
 * what out-of-scope detection needs (CLINC150, K=10: 77.5% overall against 76.0% when they are
 * dropped, as a fixed-vocabulary vectoriser would; README). Routes are stored as an inverted index in typed arrays (feature → routes and
 * weights), so a query costs one map lookup per feature and a walk over its postings.
 */
import { type DenseRows, denseRows } from './dense-rows.js';

export interface LexicalDocument {
  /** Route index. */
  route: number;
  text: string;
}

/** A saved index: feature strings, and the typed arrays built from them. */
export interface LexicalData {
  features: string[];
  idf: Float32Array;
  /** CSR postings: routes of feature f are `routes[offsets[f] .. offsets[f + 1]]`. */
  offsets: Int32Array;
  routes: Int32Array;
  weights: Float32Array;
  routeCount: number;
  /** The idf of a feature no utterance has (smoothed: ln(1 + N) + 1). */
  unseenIdf: number;
  /** Each route's sum of utterance vectors, its length before normalising (for leave-one-out). */
  routeNorms: Float32Array;
}

const WORD = /[\p{L}\p{N}]+/gu;
const SURROGATE = /[\uD800-\uDFFF]/;

/** The features of a text, with their counts, in order of first appearance. */
export function features(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const add = (f: string) => out.set(f, (out.get(f) ?? 0) + 1);
  const words = text.toLowerCase().match(WORD) ?? [];
  for (let i = 0; i < words.length; i++) {
    const [own, ...grams] = wordFeatures(words[i]!);
    add(own!);
    if (i > 0) add(`b:${words[i - 1]} ${words[i]}`);
    for (const g of grams) add(g);
  }
  return out;
}

/** A word's own features: `w:word`, then its character 3-, 4- and 5-grams (`c:…`). */
function wordFeatures(word: string): string[] {
  const out = [`w:${word}`];
  const padded = `<${word}>`;
  if (!SURROGATE.test(padded)) {
    for (let n = 3; n <= 5; n++)
      for (let start = 0; start + n <= padded.length; start++)
        out.push(`c:${padded.slice(start, start + n)}`);
    return out;
  }
  // Characters outside the BMP are two code units: count n-grams in characters, not units.
  const chars = Array.from(padded);
  for (let n = 3; n <= 5; n++) {
    for (let start = 0; start + n <= chars.length; start++)
      out.push(`c:${chars.slice(start, start + n).join('')}`);
  }
  return out;
}

/**
 * A word's features as a query sees them: each known feature's id, or for one no utterance has,
 * its string (it still counts in the query's norm, once per distinct string).
 */
type WordKeys = Array<number | string>;

/** Words whose features are kept between queries (a word's features never change). */
const WORD_CACHE_LIMIT = 50_000;

/** A typed array twice as long, holding what the first held. */
function grown<T extends Int32Array | Float64Array>(array: T): T {
  const out = new (array.constructor as new (n: number) => T)(array.length * 2);
  out.set(array);
  return out;
}

/** The longest run between consecutive starts (the most features one utterance has). */
function maxRun(starts: Int32Array): number {
  let most = 0;
  for (let i = 1; i < starts.length; i++) most = Math.max(most, starts[i]! - starts[i - 1]!);
  return most;
}

function normalise(vector: Map<number, number>): Map<number, number> {
  let sum = 0;
  for (const v of vector.values()) sum += v * v;
  if (sum > 0) {
    const inv = 1 / Math.sqrt(sum);
    for (const [k, v] of vector) vector.set(k, v * inv);
  }
  return vector;
}

/** Routers with fewer routes keep postings only: rows would save nothing there. */
const DENSE_ROUTES_FROM = 64;

export class LexicalIndex {
  private readonly ids: Map<string, number>;
  /**
   * Each word seen in a query, to its feature keys: words repeat from prompt to prompt, so most
   * queries cut no n-gram strings at all. Emptied when full; results never depend on it.
   */
  private readonly words = new Map<string, WordKeys>();

  /**
   * The features most routes of a large router share, as dense rows (dense-rows.ts). Their
   * postings stay in `data`, the artefact's form; the walk reads the rows instead. Made on first
   * use.
   */
  private rows: DenseRows | undefined;

  private constructor(
    private readonly data: LexicalData,
    private readonly rowOptions: { wasm?: boolean } = {},
  ) {
    this.ids = new Map(data.features.map((f, i) => [f, i]));
  }

  /** Builds the index of a router's utterances (documents in label order). */
  static build(documents: readonly LexicalDocument[], routeCount: number): LexicalIndex {
    // Flat arrays, not a Map per utterance and per route: at 100k utterances those Maps took
    // ~900 MB. Each sum below runs in the order the Maps gave (utterances in label order,
    // features as features() yields them, a route's features in order of first appearance), so
    // the index is the same bits (test/semantic/lexical.test.ts builds it the Map way).
    const ids = new Map<string, number>();
    const n = documents.length;
    const starts = new Int32Array(n + 1);
    let featureIds = new Int32Array(1024);
    let counts = new Int32Array(1024);
    let df = new Int32Array(1024);
    let pairs = 0;
    for (let d = 0; d < n; d++) {
      for (const [f, count] of features(documents[d]!.text)) {
        let id = ids.get(f);
        if (id === undefined) {
          id = ids.size;
          ids.set(f, id);
          if (id >= df.length) df = grown(df);
        }
        if (pairs >= featureIds.length) {
          featureIds = grown(featureIds);
          counts = grown(counts);
        }
        featureIds[pairs] = id;
        counts[pairs++] = count;
        df[id]! += 1;
      }
      starts[d + 1] = pairs;
    }
    const featureCount = ids.size;
    const idf = Float32Array.from(df.subarray(0, featureCount), (d) => Math.log((1 + n) / (1 + d)) + 1);
    // Utterances by route, in label order (a counting sort); ones of no route are left out.
    const byRoute = new Int32Array(routeCount + 1);
    for (const d of documents) if (d.route >= 0 && d.route < routeCount) byRoute[d.route + 1]! += 1;
    for (let r = 0; r < routeCount; r++) byRoute[r + 1]! += byRoute[r]!;
    const order = new Int32Array(byRoute[routeCount]!);
    const place = byRoute.slice(0, routeCount);
    documents.forEach((d, i) => {
      if (d.route >= 0 && d.route < routeCount) order[place[d.route]!++] = i;
    });
    // Each route: the normalised sum of its utterances' normalised TF-IDF vectors, kept as
    // (feature, weight) in order of first appearance, route after route.
    const sums = new Float64Array(featureCount);
    const stamp = new Int32Array(featureCount).fill(-1);
    const vector = new Float64Array(Math.max(1, maxRun(starts)));
    let touched = new Int32Array(1024);
    let routeFeatures = new Int32Array(1024);
    let routeWeights = new Float64Array(1024);
    const routeStarts = new Int32Array(routeCount + 1);
    const routeNorms = new Float32Array(routeCount);
    let kept = 0;
    for (let r = 0; r < routeCount; r++) {
      let seen = 0;
      for (let o = byRoute[r]!; o < byRoute[r + 1]!; o++) {
        const d = order[o]!;
        const from = starts[d]!;
        const to = starts[d + 1]!;
        let sum = 0;
        for (let p = from; p < to; p++) {
          const w = (1 + Math.log(counts[p]!)) * idf[featureIds[p]!]!;
          vector[p - from] = w;
          sum += w * w;
        }
        const inv = sum > 0 ? 1 / Math.sqrt(sum) : 1;
        for (let p = from; p < to; p++) {
          const id = featureIds[p]!;
          const w = sum > 0 ? vector[p - from]! * inv : vector[p - from]!;
          if (stamp[id] !== r) {
            stamp[id] = r;
            sums[id] = 0 + w;
            if (seen >= touched.length) touched = grown(touched);
            touched[seen++] = id;
          } else sums[id]! += w;
        }
      }
      let sum = 0;
      for (let i = 0; i < seen; i++) sum += sums[touched[i]!]! * sums[touched[i]!]!;
      routeNorms[r] = Math.sqrt(sum);
      const inv = sum > 0 ? 1 / Math.sqrt(sum) : 1;
      while (kept + seen > routeFeatures.length) {
        routeFeatures = grown(routeFeatures);
        routeWeights = grown(routeWeights);
      }
      for (let i = 0; i < seen; i++) {
        const id = touched[i]!;
        routeFeatures[kept] = id;
        routeWeights[kept++] = sum > 0 ? sums[id]! * inv : sums[id]!;
      }
      routeStarts[r + 1] = kept;
    }
    // Inverted into CSR: feature → (route, weight), routes ascending.
    const offsets = new Int32Array(featureCount + 1);
    for (let i = 0; i < kept; i++) offsets[routeFeatures[i]! + 1]! += 1;
    for (let f = 0; f < featureCount; f++) offsets[f + 1]! += offsets[f]!;
    const fill = offsets.slice(0, featureCount);
    const postingRoutes = new Int32Array(kept);
    const postingWeights = new Float32Array(kept);
    for (let r = 0; r < routeCount; r++) {
      for (let i = routeStarts[r]!; i < routeStarts[r + 1]!; i++) {
        const at = fill[routeFeatures[i]!]!++;
        postingRoutes[at] = r;
        postingWeights[at] = routeWeights[i]!;
      }
    }
    return new LexicalIndex({
      features: [...ids.keys()],
      idf,
      offsets,
      routes: postingRoutes,
      weights: postingWeights,
      routeCount,
      unseenIdf: Math.log(1 + n) + 1,
      routeNorms,
    });
  }

  /** `rows.wasm: false` keeps the rows' pass in JavaScript (tests compare the two). */
  static fromData(data: LexicalData, rows: { wasm?: boolean } = {}): LexicalIndex {
    return new LexicalIndex(data, rows);
  }

  /** How the rows' pass runs, once made: undefined for a router too small to have them. */
  get rowKind(): DenseRows['kind'] | undefined {
    return this.data.routeCount < DENSE_ROUTES_FROM ? undefined : this.denseRows().kind;
  }

  private denseRows(): DenseRows {
    this.rows ??= denseRows(this.data, this.rowOptions);
    return this.rows;
  }

  /** What the artefact saves. */
  toData(): LexicalData {
    return this.data;
  }

  get routeCount(): number {
    return this.data.routeCount;
  }

  private keysOf(word: string): WordKeys {
    let keys = this.words.get(word);
    if (keys === undefined) {
      keys = wordFeatures(word).map((f) => this.ids.get(f) ?? f);
      if (this.words.size >= WORD_CACHE_LIMIT) this.words.clear();
      this.words.set(word, keys);
    }
    return keys;
  }

  /** Cosine between the query and every route (0 for routes sharing no feature with it). */
  score(text: string): Float64Array {
    const { idf, offsets, routes, weights, unseenIdf, routeCount } = this.data;
    // Counts by key, in order of first appearance (the order features() gives, so sums match
    // the build's bit for bit): a known feature by its id, an unknown one by -1 - its slot.
    const query = new Map<number, number>();
    const unknown = new Map<string, number>();
    const count = (key: number | string) => {
      let k: number;
      if (typeof key === 'number') k = key;
      else {
        let slot = unknown.get(key);
        if (slot === undefined) {
          slot = -1 - query.size;
          unknown.set(key, slot);
        }
        k = slot;
      }
      query.set(k, (query.get(k) ?? 0) + 1);
    };
    const words = text.toLowerCase().match(WORD) ?? [];
    for (let i = 0; i < words.length; i++) {
      const keys = this.keysOf(words[i]!);
      count(keys[0]!);
      if (i > 0) {
        const pair = `b:${words[i - 1]} ${words[i]}`;
        count(this.ids.get(pair) ?? pair);
      }
      for (let k = 1; k < keys.length; k++) count(keys[k]!);
    }
    for (const [k, n] of query) query.set(k, (1 + Math.log(n)) * (k < 0 ? unseenIdf : idf[k]!));
    normalise(query);
    if (routeCount < DENSE_ROUTES_FROM) {
      const out = new Float64Array(routeCount);
      for (const [id, q] of query) {
        if (id < 0) continue;
        const end = offsets[id + 1]!;
        for (let p = offsets[id]!; p < end; p++) out[routes[p]!]! += q * weights[p]!;
      }
      return out;
    }
    // Postings and rows add into the same sums, one feature at a time in the query's order.
    const dense = this.denseRows();
    const { rowOf, sums } = dense;
    dense.reset();
    for (const [id, q] of query) {
      if (id < 0) continue;
      const row = rowOf[id]!;
      if (row >= 0) dense.addRow(row, q);
      else {
        const end = offsets[id + 1]!;
        for (let p = offsets[id]!; p < end; p++) sums[routes[p]!]! += q * weights[p]!;
      }
    }
    return Float64Array.from(sums);
  }
}
