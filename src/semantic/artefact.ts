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

export const ARTEFACT_VERSION = 1;

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
  };
}

export async function writeArtefact(
  cacheDir: string,
  manifest: ArtefactManifest,
  vectors: readonly Float32Array[],
  saveIndex: ((file: string) => Promise<void>) | undefined,
): Promise<void> {
  const files = artefactFiles(cacheDir, manifest.key);
  const body = new Float32Array(vectors.length * manifest.dimensions);
  for (const [i, v] of vectors.entries()) body.set(v, i * manifest.dimensions);
  await writeFileAtomic(files.vectors, new Uint8Array(body.buffer));
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
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
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
