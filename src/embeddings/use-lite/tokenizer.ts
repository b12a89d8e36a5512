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

import { ErrorCode, SemrouteError } from '../../errors.js';

export type Vocabulary = ReadonlyArray<readonly [string, number | null]>;

const SEPARATOR = '\u2581';
const RESERVED = 6;
const UNKNOWN_ID = 0;
export const USE_LITE_MAX_TOKENS = 128;

/** Code points are below 0x110000: a (node, code point) pair packs into one safe integer key. */
const CODE_POINTS = 0x110000;

/** Text made only of printable ASCII characters and plain spaces. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * The trie of pieces, in a form that is its own file (`toBinary`): nodes numbered breadth first,
 * each node's edges contiguous and sorted by code point, so that the target of edge `e` is node
 * `e + 1`. Loading it is reading typed arrays; building the trie from vocab.json took ~30 ms of
 * every CLI start (a Map per node once took 30 ms more).
 */
interface Tables {
  /** Piece id ending at each node, or -1. Node 0 is the root. */
  nodeId: Int32Array;
  /** The edges of node n are childStart[n] … childStart[n + 1] - 1. */
  childStart: Int32Array;
  /** Each edge's code point, ascending within a node. */
  childCode: Int32Array;
  /** Piece length in code points, by id: the backtrack step. */
  pieceLength: Int32Array;
  pieceScore: Float64Array;
}

/** The binary form's first bytes ("SRTK") and its version. */
const MAGIC = 0x4b545253;
const FORMAT_VERSION = 1;
/** magic, version, pieces, nodes, edges, and padding to 8 bytes. */
const HEADER_BYTES = 24;

export class UseLiteTokenizer {
  readonly vocabularySize: number;
  private readonly nodeId: Int32Array;
  private readonly childStart: Int32Array;
  private readonly childCode: Int32Array;
  private readonly pieceLength: Int32Array;
  private readonly pieceScore: Float64Array;
  /** The root's child for each ASCII code, or -1: most prompts start most pieces there. */
  private readonly rootAscii = new Int32Array(128).fill(-1);

  private constructor(
    tables: Tables,
    private readonly maxTokens = USE_LITE_MAX_TOKENS,
  ) {
    this.nodeId = tables.nodeId;
    this.childStart = tables.childStart;
    this.childCode = tables.childCode;
    this.pieceLength = tables.pieceLength;
    this.pieceScore = tables.pieceScore;
    this.vocabularySize = tables.pieceLength.length;
    for (let e = this.childStart[0]!; e < this.childStart[1]!; e++) {
      const code = this.childCode[e]!;
      if (code < 128) this.rootAscii[code] = e + 1;
    }
  }

  /** The tokenizer of a vocabulary (vocab.json: [piece, score] by id). */
  static fromVocabulary(vocabulary: Vocabulary, maxTokens = USE_LITE_MAX_TOKENS): UseLiteTokenizer {
    return new UseLiteTokenizer(buildTables(vocabulary), maxTokens);
  }

  /**
   * The tokenizer saved by `toBinary` (tokenizer.bin, written by `models build`). `file` names
   * it in the error when the bytes are not such a file.
   */
  static fromBinary(bytes: Uint8Array, file: string, maxTokens = USE_LITE_MAX_TOKENS): UseLiteTokenizer {
    const corrupt = (why: string) =>
      new SemrouteError(
        ErrorCode.TOKENIZER_MISSING,
        `${file} is not a USE-lite tokenizer: ${why}; run semroute models build --force`,
        {
          file,
          expected: `tokenizer.bin format ${FORMAT_VERSION}`,
        },
      );
    if (bytes.byteLength < HEADER_BYTES) throw corrupt('too short');
    // A copy at offset 0: typed-array views need aligned offsets, and a Buffer read from disk
    // may sit anywhere in Node's pool.
    const buffer = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
    const header = new Uint32Array(buffer.buffer, buffer.byteOffset, HEADER_BYTES / 4);
    if (header[0] !== MAGIC) throw corrupt('wrong magic');
    if (header[1] !== FORMAT_VERSION) throw corrupt(`format ${header[1]}`);
    const [pieces, nodes, edges] = [header[2]!, header[3]!, header[4]!];
    const expected = HEADER_BYTES + pieces * 8 + pieces * 4 + nodes * 4 + (nodes + 1) * 4 + edges * 4;
    if (buffer.byteLength !== expected || edges !== nodes - 1)
      throw corrupt(`${buffer.byteLength} bytes, header says ${expected}`);
    let at = buffer.byteOffset + HEADER_BYTES;
    const take = <T>(
      make: new (b: ArrayBufferLike, o: number, n: number) => T,
      n: number,
      size: number,
    ): T => {
      const view = new make(buffer.buffer, at, n);
      at += n * size;
      return view;
    };
    const tables: Tables = {
      pieceScore: take(Float64Array, pieces, 8),
      pieceLength: take(Int32Array, pieces, 4),
      nodeId: take(Int32Array, nodes, 4),
      childStart: take(Int32Array, nodes + 1, 4),
      childCode: take(Int32Array, edges, 4),
    };
    // Every index the walk follows stays inside the arrays, whatever the file says.
    const { childStart, nodeId, pieceLength } = tables;
    if (childStart[0] !== 0 || childStart[nodes] !== edges) throw corrupt('edge ranges out of bounds');
    for (let n = 0; n < nodes; n++)
      if (childStart[n + 1]! < childStart[n]!) throw corrupt('edge ranges out of order');
    for (let n = 0; n < nodes; n++)
      if (nodeId[n]! >= pieces || nodeId[n]! < -1) throw corrupt('piece id out of range');
    for (let id = 0; id < pieces; id++) if (pieceLength[id]! < 0) throw corrupt('negative piece length');
    return new UseLiteTokenizer(tables, maxTokens);
  }

  /** The binary form `fromBinary` reads. */
  toBinary(): Uint8Array {
    const pieces = this.pieceLength.length;
    const nodes = this.nodeId.length;
    const edges = this.childCode.length;
    const out = new Uint8Array(HEADER_BYTES + pieces * 12 + nodes * 4 + (nodes + 1) * 4 + edges * 4);
    new Uint32Array(out.buffer, 0, 5).set([MAGIC, FORMAT_VERSION, pieces, nodes, edges]);
    let at = HEADER_BYTES;
    for (const part of [this.pieceScore, this.pieceLength, this.nodeId, this.childStart, this.childCode]) {
      out.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), at);
      at += part.byteLength;
    }
    return out;
  }

  /** The node reached from `node` by code point `code`, or -1. */
  private child(node: number, code: number): number {
    if (node === 0 && code < 128) return this.rootAscii[code]!;
    let lo = this.childStart[node]!;
    let hi = this.childStart[node + 1]! - 1;
    const codes = this.childCode;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = codes[mid]!;
      if (c === code) return mid + 1;
      if (c < code) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
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
        if (this.child(0, code) >= 0) known++;
      }
      return total === 0 ? 1 : known / total;
    }
    for (const c of text.normalize('NFKC')) {
      if (/\s/.test(c)) continue;
      total++;
      if (this.child(0, c.codePointAt(0)!) >= 0) known++;
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
      let node = this.child(0, symbols[start]!);
      let matched = false;
      for (let i = start; node >= 0; ) {
        const id = this.nodeId[node]!;
        if (id >= 0) {
          matched = true;
          this.relax(best, words, i + 1, this.pieceScore[id]! + base, id);
        }
        i += 1;
        if (i >= n) break;
        node = this.child(node, symbols[i]!);
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

/**
 * The tables of a vocabulary: a first trie keyed by (node, code point), then renumbered breadth
 * first with each node's edges sorted, the form `Tables` describes.
 */
function buildTables(vocabulary: Vocabulary): Tables {
  const pieceLength = new Int32Array(vocabulary.length);
  const pieceScore = new Float64Array(vocabulary.length);
  pieceLength[UNKNOWN_ID] = 1;
  const edges = new Map<number, number>();
  const children: number[][] = [[]];
  const codes: number[] = [0];
  const ids: number[] = [-1];
  for (let id = RESERVED; id < vocabulary.length; id++) {
    const [piece, score] = vocabulary[id]!;
    let node = 0;
    let length = 0;
    for (const c of piece) {
      const code = c.codePointAt(0)!;
      const key = node * CODE_POINTS + code;
      let next = edges.get(key);
      if (next === undefined) {
        next = ids.length;
        edges.set(key, next);
        ids.push(-1);
        codes.push(code);
        children.push([]);
        children[node]!.push(next);
      }
      node = next;
      length++;
    }
    ids[node] = id;
    pieceLength[id] = length;
    pieceScore[id] = score ?? 0;
  }
  const nodes = ids.length;
  const nodeId = new Int32Array(nodes);
  const childStart = new Int32Array(nodes + 1);
  const childCode = new Int32Array(nodes - 1);
  // Breadth first: the queue's order is the new numbering, and the edge that reaches a node is
  // its new number minus one.
  const queue = [0];
  let edge = 0;
  for (let head = 0; head < queue.length; head++) {
    const old = queue[head]!;
    nodeId[head] = ids[old]!;
    childStart[head] = edge;
    const sorted = children[old]!.sort((a, b) => codes[a]! - codes[b]!);
    for (const c of sorted) {
      childCode[edge++] = codes[c]!;
      queue.push(c);
    }
  }
  childStart[nodes] = edge;
  return { nodeId, childStart, childCode, pieceLength, pieceScore };
}
