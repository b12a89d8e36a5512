/**
 * The compiled artefact: what a restart needs to route without embedding anything.
 * Folder `<cacheDir>/<key>/` with `manifest.json`, `vectors.bin` (float32 rows in manifest
 * order) and `index.hnsw` (when the index is HNSW). The key hashes the encoder id, the expanded
 * utterances and the index options, so any change that alters vectors gets a new folder.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { IndexOptions } from '../config/router-config.js';
import { ErrorCode, SemrouteError } from '../errors.js';
import { writeFileAtomic } from '../internal/fs.js';
import { HEAD_VERSION, type RouteHead } from './head.js';
import type { LexicalData } from './lexical.js';

export const ARTEFACT_VERSION = 2;

export interface ArtefactUtterance {
  label: number;
  route: string;
  text: string;
  template: string | undefined;
}

export interface ArtefactManifest {
  version: number;
  key: string;
  encoder: string;
  dimensions: number;
  indexKind: string;
  utterances: ArtefactUtterance[];
  createdAt: string;
}

export interface FitRecord {
  /** Hash of the threshold settings the fit started from; a config edit invalidates the fit. */
  basis: string;
  aggregation: 'max' | 'mean' | 'top_k_mean';
  top_k: number;
  thresholds: Record<string, number>;
  fittedAt: string;
  rows: number;
}

export function artefactKey(
  encoderId: string,
  utterances: ReadonlyArray<{ route: string; text: string }>,
  index: IndexOptions,
  indexKind: string,
): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ v: ARTEFACT_VERSION, encoderId, index, indexKind }));
  for (const u of utterances) hash.update(`\u0000${u.route}\u0001${u.text}`);
  return hash.digest('hex').slice(0, 32);
}

export function artefactFiles(cacheDir: string, key: string) {
  const dir = path.join(cacheDir, key);
  return {
    dir,
    manifest: path.join(dir, 'manifest.json'),
    vectors: path.join(dir, 'vectors.bin'),
    index: path.join(dir, 'index.hnsw'),
    fit: path.join(dir, 'fit.json'),
    centroids: path.join(dir, 'centroids.bin'),
    head: path.join(dir, 'head.bin'),
    lexical: path.join(dir, 'lexical.bin'),
  };
}

/** Rows this many at a time: 2 MB blocks of a 512-d model. */
const BLOCK_ROWS = 1024;

/**
 * The rows as float32 bytes, a block at a time: one buffer of them all was a second copy of the
 * vectors while the file was written (100k utterances: 205 MB). The bytes are the same.
 */
function* rowBlocks(vectors: readonly Float32Array[], dimensions: number): Generator<Uint8Array> {
  for (let start = 0; start < vectors.length; start += BLOCK_ROWS) {
    const count = Math.min(BLOCK_ROWS, vectors.length - start);
    const block = new Float32Array(count * dimensions);
    for (let i = 0; i < count; i++) block.set(vectors[start + i]!, i * dimensions);
    yield new Uint8Array(block.buffer);
  }
}

export async function writeArtefact(
  cacheDir: string,
  manifest: ArtefactManifest,
  vectors: readonly Float32Array[],
  saveIndex: ((file: string) => Promise<void>) | undefined,
): Promise<void> {
  const files = artefactFiles(cacheDir, manifest.key);
  await writeFileAtomic(files.vectors, rowBlocks(vectors, manifest.dimensions));
  if (saveIndex) await saveIndex(files.index);
  // Manifest last: a folder without one is an unfinished write and is ignored.
  await writeFileAtomic(files.manifest, JSON.stringify(manifest));
}

export interface LoadedArtefact {
  manifest: ArtefactManifest;
  vectors: Float32Array[];
  indexFile: string;
}

/** Reads an artefact; undefined when absent, ARTEFACT_INVALID when present but broken. */
export async function readArtefact(cacheDir: string, key: string): Promise<LoadedArtefact | undefined> {
  const files = artefactFiles(cacheDir, key);
  let manifest: ArtefactManifest;
  try {
    manifest = JSON.parse(await readFile(files.manifest, 'utf8')) as ArtefactManifest;
  } catch {
    return undefined;
  }
  if (manifest.version !== ARTEFACT_VERSION || manifest.key !== key) return undefined;
  let bytes: Buffer;
  try {
    bytes = await readFile(files.vectors);
  } catch (cause) {
    throw new SemrouteError(ErrorCode.ARTEFACT_INVALID, `Compiled artefact ${files.dir} lacks vectors.bin`, {
      file: files.vectors,
      cause,
    });
  }
  const d = manifest.dimensions;
  if (bytes.length !== manifest.utterances.length * d * 4) {
    throw new SemrouteError(ErrorCode.ARTEFACT_INVALID, `Compiled artefact ${files.vectors} is truncated`, {
      file: files.vectors,
    });
  }
  // A file this large is read into a buffer of its own, 4-byte aligned: view it rather than copy
  // it (10k utterances: 20 MB that a restarted proxy held twice until its first full GC).
  const all =
    bytes.byteOffset % 4 === 0
      ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)
      : new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const vectors = manifest.utterances.map((_, i) => all.subarray(i * d, (i + 1) * d));
  return { manifest, vectors, indexFile: files.index };
}

export async function readFit(cacheDir: string, key: string): Promise<FitRecord | undefined> {
  try {
    return JSON.parse(await readFile(artefactFiles(cacheDir, key).fit, 'utf8')) as FitRecord;
  } catch {
    return undefined;
  }
}

export async function writeFit(cacheDir: string, key: string, fit: FitRecord): Promise<void> {
  await writeFileAtomic(artefactFiles(cacheDir, key).fit, `${JSON.stringify(fit, null, 2)}\n`);
}

/** The hybrid score's tables, when the router was compiled for it. */
export interface HybridTables {
  centroids: Float32Array;
  lexical: LexicalData;
}

/**
 * Writes the centroids (float32 rows) and the lexical index: a JSON header line (features,
 * route count, array lengths), then idf, offsets, routes, weights and route norms as raw typed
 * arrays.
 */
export async function writeHybrid(cacheDir: string, key: string, tables: HybridTables): Promise<void> {
  const files = artefactFiles(cacheDir, key);
  const { centroids, lexical } = tables;
  await writeFileAtomic(
    files.centroids,
    new Uint8Array(centroids.buffer, centroids.byteOffset, centroids.byteLength),
  );
  const header = Buffer.from(
    `${JSON.stringify({
      features: lexical.features,
      routeCount: lexical.routeCount,
      unseenIdf: lexical.unseenIdf,
      postings: lexical.routes.length,
    })}\n`,
  );
  const parts = [lexical.idf, lexical.offsets, lexical.routes, lexical.weights, lexical.routeNorms].map((a) =>
    Buffer.from(a.buffer, a.byteOffset, a.byteLength),
  );
  await writeFileAtomic(files.lexical, Buffer.concat([header, ...parts]));
}

/** Reads what writeHybrid wrote; undefined when absent or not for this shape (then it is rebuilt). */
export async function readHybrid(
  cacheDir: string,
  key: string,
  routeCount: number,
  dimensions: number,
): Promise<HybridTables | undefined> {
  const files = artefactFiles(cacheDir, key);
  try {
    const [c, l] = await Promise.all([readFile(files.centroids), readFile(files.lexical)]);
    if (c.length !== routeCount * dimensions * 4) return undefined;
    const newline = l.indexOf(10);
    const header = JSON.parse(l.subarray(0, newline).toString('utf8')) as {
      features: string[];
      routeCount: number;
      unseenIdf: number;
      postings: number;
    };
    if (header.routeCount !== routeCount) return undefined;
    const f = header.features.length;
    const body = l.buffer.slice(l.byteOffset + newline + 1, l.byteOffset + l.length);
    const sizes = [f * 4, (f + 1) * 4, header.postings * 4, header.postings * 4, routeCount * 4];
    if (body.byteLength !== sizes.reduce((a, b) => a + b, 0)) return undefined;
    let at = 0;
    const take = <T>(make: (buffer: ArrayBuffer, offset: number, length: number) => T, bytes: number) => {
      const out = make(body, at, bytes / 4);
      at += bytes;
      return out;
    };
    return {
      centroids: new Float32Array(c.buffer.slice(c.byteOffset, c.byteOffset + c.length)),
      lexical: {
        features: header.features,
        routeCount,
        unseenIdf: header.unseenIdf,
        idf: take((b, o, n) => new Float32Array(b, o, n), sizes[0]!),
        offsets: take((b, o, n) => new Int32Array(b, o, n), sizes[1]!),
        routes: take((b, o, n) => new Int32Array(b, o, n), sizes[2]!),
        weights: take((b, o, n) => new Float32Array(b, o, n), sizes[3]!),
        routeNorms: take((b, o, n) => new Float32Array(b, o, n), sizes[4]!),
      },
    };
  } catch {
    return undefined;
  }
}

/**
 * Writes the trained head: a JSON header line (head version, routes, dimensions), then the
 * weights and the biases as raw float32. The head depends only on the utterance vectors, so
 * it sits in their folder; a head of another HEAD_VERSION is retrained on load.
 */
export async function writeHead(cacheDir: string, key: string, head: RouteHead): Promise<void> {
  const header = Buffer.from(
    `${JSON.stringify({ version: HEAD_VERSION, routeCount: head.routeCount, dimensions: head.dimensions })}\n`,
  );
  const parts = [head.weights, head.bias].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  await writeFileAtomic(artefactFiles(cacheDir, key).head, Buffer.concat([header, ...parts]));
}

/** Reads what writeHead wrote; undefined when absent or not for this version and shape. */
export async function readHead(
  cacheDir: string,
  key: string,
  routeCount: number,
  dimensions: number,
): Promise<RouteHead | undefined> {
  try {
    const file = await readFile(artefactFiles(cacheDir, key).head);
    const newline = file.indexOf(10);
    const header = JSON.parse(file.subarray(0, newline).toString('utf8')) as {
      version: number;
      routeCount: number;
      dimensions: number;
    };
    if (
      header.version !== HEAD_VERSION ||
      header.routeCount !== routeCount ||
      header.dimensions !== dimensions
    )
      return undefined;
    const body = file.buffer.slice(file.byteOffset + newline + 1, file.byteOffset + file.length);
    if (body.byteLength !== (routeCount * dimensions + routeCount) * 4) return undefined;
    return {
      weights: new Float32Array(body, 0, routeCount * dimensions),
      bias: new Float32Array(body, routeCount * dimensions * 4, routeCount),
      routeCount,
      dimensions,
    };
  } catch {
    return undefined;
  }
}
