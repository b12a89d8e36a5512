/**
 * The SentencePiece unigram tokenizer of Universal Sentence Encoder Lite, ported so that its ids
 * match the reference TF.js implementation exactly (the parity test checks this on 200+ texts).
 *
 * Rules kept on purpose, quirks included:
 * - NFKC, then "▁" in front and every U+0020 (only that space) replaced by "▁";
 * - Viterbi over pieces with ids 6..N-1, maximising the summed scores; null scores count as 0;
 * - ties go to the later candidate, and a best score of exactly 0 counts as "unset" (as in the
 *   reference, which compares `best === 0 || score >= best`);
 * - a character no piece starts with becomes id 0, consecutive 0s merge into one;
 * - case-sensitive, no start/end tokens, at most `maxTokens` kept (the graph drops the rest).
 */

export type Vocabulary = ReadonlyArray<readonly [string, number | null]>;

const SEPARATOR = '\u2581';
const RESERVED = 6;
const UNKNOWN_ID = 0;
export const USE_LITE_MAX_TOKENS = 128;

/** Code points are below 0x110000: a (node, code point) pair packs into one safe integer key. */
const CODE_POINTS = 0x110000;

/** Text made only of printable ASCII characters and plain spaces. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export class UseLiteTokenizer {
  /**
   * The trie of pieces as one map from (node, code point) to the child node, and the piece that
   * ends at each node in a typed array: built in a few ms, where a Map per node took 30 ms of
   * every start (the CLI's cold start counts it).
   */
  private readonly edges = new Map<number, number>();
  /** Piece id ending at each node, or -1. */
  private readonly nodeId: Int32Array;
  /** Piece length in code points, by id: the backtrack step. */
  private readonly pieceLength: Int32Array;
  private readonly pieceScore: Float64Array;
  readonly vocabularySize: number;

  constructor(
    vocabulary: Vocabulary,
    private readonly maxTokens = USE_LITE_MAX_TOKENS,
  ) {
    this.vocabularySize = vocabulary.length;
    this.pieceLength = new Int32Array(vocabulary.length);
    this.pieceScore = new Float64Array(vocabulary.length);
    this.pieceLength[UNKNOWN_ID] = 1;
    let ids = new Int32Array(vocabulary.length * 4).fill(-1);
    let nodes = 1;
    for (let id = RESERVED; id < vocabulary.length; id++) {
      const [piece, score] = vocabulary[id]!;
      let node = 0;
      let length = 0;
      for (const c of piece) {
        const key = node * CODE_POINTS + c.codePointAt(0)!;
        let next = this.edges.get(key);
        if (next === undefined) {
          next = nodes++;
          this.edges.set(key, next);
          if (next >= ids.length) {
            const grown = new Int32Array(ids.length * 2).fill(-1);
            grown.set(ids);
            ids = grown;
          }
        }
        node = next;
        length++;
      }
      ids[node] = id;
      this.pieceLength[id] = length;
      this.pieceScore[id] = score ?? 0;
    }
    this.nodeId = ids;
  }

  /**
   * The share of a text's non-space characters that some piece starts with: the rest all become
   * the one unknown id. 1 for an empty text.
   */
  coverage(text: string): number {
    let known = 0;
    let total = 0;
    // Printable ASCII is its own NFKC form: count it without normalising or a regex per character.
    if (PRINTABLE_ASCII.test(text)) {
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        if (code === 32) continue;
        total++;
        if (this.edges.has(code)) known++;
      }
      return total === 0 ? 1 : known / total;
    }
    for (const c of text.normalize('NFKC')) {
      if (/\s/.test(c)) continue;
      total++;
      if (this.edges.has(c.codePointAt(0)!)) known++;
    }
    return total === 0 ? 1 : known / total;
  }

  /** Token ids of one text (possibly empty), truncated to `maxTokens`. */
  encode(text: string): number[] {
    const normalized = text.normalize('NFKC');
    if (normalized.length === 0) return [];
    const input = SEPARATOR + normalized.replaceAll(' ', SEPARATOR);
    const symbols = Array.from(input, (c) => c.codePointAt(0)!);
    const n = symbols.length;
    const best = new Float64Array(n + 1);
    const words = new Int32Array(n + 1);

    // Forward Viterbi. Candidates ending at a position are visited in ascending start order,
    // which is the order the reference visits them in, so tie-breaking matches.
    for (let start = 0; start < n; start++) {
      const base = best[start]!;
      let node = this.edges.get(symbols[start]!);
      let matched = false;
      for (let i = start; node !== undefined; ) {
        const id = this.nodeId[node]!;
        if (id >= 0) {
          matched = true;
          this.relax(best, words, i + 1, this.pieceScore[id]! + base, id);
        }
        i += 1;
        if (i >= n) break;
        node = this.edges.get(node * CODE_POINTS + symbols[i]!);
      }
      if (!matched) this.relax(best, words, start + 1, base, UNKNOWN_ID);
    }

    const reversed: number[] = [];
    for (let end = n; end > 0; ) {
      const id = words[end]!;
      reversed.push(id);
      end -= this.pieceLength[id]!;
    }
    const ids: number[] = [];
    let previousUnknown = false;
    for (const id of reversed) {
      if (!(previousUnknown && id === UNKNOWN_ID)) ids.push(id);
      previousUnknown = id === UNKNOWN_ID;
    }
    ids.reverse();
    return ids.length > this.maxTokens ? ids.slice(0, this.maxTokens) : ids;
  }

  private relax(best: Float64Array, words: Int32Array, end: number, score: number, id: number): void {
    const current = best[end]!;
    if (current === 0 || score >= current) {
      best[end] = score;
      words[end] = id;
    }
  }
}
