import { offerTop } from './top-k.js';
import { readFile } from 'node:fs/promises';
import { ErrorCode, SemrouteError } from '../errors.js';
import { writeFileAtomic } from '../internal/fs.js';
import { checkBatch, checkQuery } from './checks.js';
import { dotAt } from './dot.js';
import type { SearchHits, VectorIndex } from './vector-index.js';

/**
 * A flat Float32Array scan. Exact by construction; for a few thousand vectors it is as fast as
 * HNSW (see the bench), and it is the reference the HNSW index is checked against.
 */
export class ExactIndex implements VectorIndex {
  readonly kind = 'exact';
  private data: Float32Array;
  private labels: number[] = [];
  private readonly position = new Map<number, number>();

  constructor(
    readonly dimensions: number,
    capacity = 1024,
  ) {
    this.data = new Float32Array(Math.max(1, capacity) * dimensions);
  }

  get size(): number {
    return this.labels.length;
  }

  has(label: number): boolean {
    return this.position.has(label);
  }

  add(vectors: readonly Float32Array[], labels: readonly number[]): void {
    checkBatch(this, vectors, labels);
    const needed = (this.labels.length + vectors.length) * this.dimensions;
    if (needed > this.data.length) {
      const grown = new Float32Array(Math.max(needed, this.data.length * 2));
      grown.set(this.data);
      this.data = grown;
    }
    vectors.forEach((v, i) => {
      const at = this.labels.length;
      this.data.set(v, at * this.dimensions);
      this.labels.push(labels[i]!);
      this.position.set(labels[i]!, at);
    });
  }

  remove(labels: readonly number[]): void {
    for (const label of labels) {
      const at = this.position.get(label);
      if (at === undefined) {
        throw new SemrouteError(ErrorCode.INDEX_INVALID, `remove(): label ${label} is not in the index`);
      }
      // Swap the last row into the hole: O(d), keeps the matrix dense.
      const last = this.labels.length - 1;
      if (at !== last) {
        this.data.copyWithin(at * this.dimensions, last * this.dimensions, (last + 1) * this.dimensions);
        const moved = this.labels[last]!;
        this.labels[at] = moved;
        this.position.set(moved, at);
      }
      this.labels.pop();
      this.position.delete(label);
    }
  }

  search(query: Float32Array, k: number): SearchHits {
    checkQuery(this, query);
    const n = this.labels.length;
    const want = Math.min(k, n);
    if (want <= 0) return { labels: [], scores: [] };
    const d = this.dimensions;
    const data = this.data;
    // Keep the best `want` in a small sorted buffer; cheaper than sorting n scores for small k.
    const topScores = new Float64Array(want).fill(-Infinity);
    const topRows = new Int32Array(want).fill(-1);
    for (let row = 0; row < n; row++) {
      offerTop(topScores, topRows, dotAt(data, row * d, query), row);
    }
    const labels: number[] = [];
    const scores: number[] = [];
    for (let i = 0; i < want; i++) {
      if (topRows[i]! < 0) break;
      labels.push(this.labels[topRows[i]!]!);
      scores.push(topScores[i]!);
    }
    return { labels, scores };
  }

  /** Format: JSON header line, then the float32 rows. */
  async save(file: string): Promise<void> {
    const header = Buffer.from(
      `${JSON.stringify({ kind: 'exact', dimensions: this.dimensions, labels: this.labels })}\n`,
    );
    const body = Buffer.from(
      this.data.buffer,
      this.data.byteOffset,
      this.labels.length * this.dimensions * 4,
    );
    await writeFileAtomic(file, Buffer.concat([header, body]));
  }

  static async load(file: string): Promise<ExactIndex> {
    const bytes = await readFile(file);
    const newline = bytes.indexOf(10);
    let header: { kind: string; dimensions: number; labels: number[] };
    try {
      header = JSON.parse(bytes.subarray(0, newline).toString('utf8'));
    } catch (cause) {
      throw new SemrouteError(ErrorCode.ARTEFACT_INVALID, `${file} is not an exact index`, { file, cause });
    }
    const count = header.labels.length;
    if (header.kind !== 'exact' || bytes.length - newline - 1 !== count * header.dimensions * 4) {
      throw new SemrouteError(ErrorCode.ARTEFACT_INVALID, `${file} is truncated or not an exact index`, {
        file,
      });
    }
    const index = new ExactIndex(header.dimensions, count);
    const rows = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + newline + 1, bytes.byteOffset + bytes.length),
    );
    const vectors = header.labels.map((_, i) =>
      rows.subarray(i * header.dimensions, (i + 1) * header.dimensions),
    );
    index.add(vectors, header.labels);
    return index;
  }
}
