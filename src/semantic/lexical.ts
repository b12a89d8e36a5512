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
    const ids = new Map<string, number>();
    const counted = documents.map((d) => {
      const tf = new Map<number, number>();
      for (const [f, n] of features(d.text)) {
        let id = ids.get(f);
        if (id === undefined) {
          id = ids.size;
          ids.set(f, id);
        }
        tf.set(id, n);
      }
      return { route: d.route, tf };
    });
    const df = new Float64Array(ids.size);
    for (const { tf } of counted) for (const id of tf.keys()) df[id]! += 1;
    const n = documents.length;
    const idf = Float32Array.from(df, (d) => Math.log((1 + n) / (1 + d)) + 1);
    // Each route: the normalised sum of its utterances' normalised TF-IDF vectors.
    const routes = Array.from({ length: routeCount }, () => new Map<number, number>());
    for (const { route, tf } of counted) {
      const vector = new Map<number, number>();
      for (const [id, count] of tf) vector.set(id, (1 + Math.log(count)) * idf[id]!);
      const target = routes[route];
      if (target === undefined) continue;
      for (const [id, w] of normalise(vector)) target.set(id, (target.get(id) ?? 0) + w);
    }
    // Inverted into CSR: feature → (route, weight).
    const routeNorms = Float32Array.from(routes, (route) => {
      let sum = 0;
      for (const w of route.values()) sum += w * w;
      return Math.sqrt(sum);
    });
    const perFeature = new Int32Array(ids.size);
    for (const route of routes) for (const id of normalise(route).keys()) perFeature[id]! += 1;
    const offsets = new Int32Array(ids.size + 1);
    for (let f = 0; f < ids.size; f++) offsets[f + 1] = offsets[f]! + perFeature[f]!;
    const fill = offsets.slice(0, ids.size);
    const postingRoutes = new Int32Array(offsets[ids.size]!);
    const postingWeights = new Float32Array(offsets[ids.size]!);
    routes.forEach((route, r) => {
      for (const [id, w] of route) {
        const at = fill[id]!++;
        postingRoutes[at] = r;
        postingWeights[at] = w;
      }
    });
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
