/**
 * Compiling a router: the encoder, every utterance embedded and indexed, and the per-route
 * tables; or the same loaded from the saved artefact when one exists for these utterances, this
 * encoder and these index settings (a restart embeds nothing).
 */
import type { LoadedRouterConfig, RouterConfig } from '../config/router-config.js';
import { createEncoder } from '../embeddings/create.js';
import type { Encoder } from '../embeddings/encoder.js';
import { ErrorCode, SemrouteError } from '../errors.js';
import { chooseIndexKind, indexKind } from '../vector-index/create.js';
import type { VectorIndex } from '../vector-index/vector-index.js';
import {
  ARTEFACT_VERSION,
  type ArtefactManifest,
  artefactKey,
  readArtefact,
  readFit,
  readHead,
  readHybrid,
  writeArtefact,
  writeHead,
  writeHybrid,
} from './artefact.js';
import { type RouteHead, trainHead } from './head.js';
import { computeCentroids } from './centroids.js';
import { LexicalIndex } from './lexical.js';
import { RouteTable } from './route-table.js';
import { isHybrid } from './scoring.js';
import { checkRouterConfig } from './validate.js';

export interface CompileOptions {
  /** Use this encoder instead of the one router.json names (a shared or test encoder). */
  encoder?: Encoder | undefined;
  /** Where compiled artefacts go; `false` disables. Default env `SEMROUTE_CACHE_DIR`, else `./.semroute-cache`. */
  cacheDir?: string | false | undefined;
  /** Force the index kind, overriding router.json's `index.type`. */
  index?: string | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
  fetch?: typeof fetch | undefined;
}

/** Everything a SemanticRouter holds. */
export interface Compiled {
  encoder: Encoder;
  ownsEncoder: boolean;
  index: VectorIndex;
  table: RouteTable;
  cacheDir: string | undefined;
  /** The artefact key of the current utterances. */
  key: string;
  /** The index type asked for (`auto` or a kind), kept for later mutations. */
  indexType: string;
  /**
   * The hybrid score's centroids and lexical index, and with `scoring: head` the trained head;
   * undefined for `scoring: dense`.
   */
  hybrid: { centroids: Float32Array; lexical: LexicalIndex; head?: RouteHead | undefined } | undefined;
}

/** Centroids and the lexical index from the records, in label order (so a rebuild is exact). */
export function buildHybrid(compiled: Pick<Compiled, 'table' | 'encoder'>): Compiled['hybrid'] {
  const { table, encoder } = compiled;
  const config = table.routerConfig;
  if (!isHybrid(config)) return undefined;
  const records = table.ordered().map(([, r]) => r);
  return {
    centroids: computeCentroids(records, config.routes.length, encoder.dimensions),
    lexical: LexicalIndex.build(records, config.routes.length),
    head: buildHead(compiled),
  };
}

/** The trained head when the scoring asks for one (rows in label order: the same head every time). */
function buildHead(compiled: Pick<Compiled, 'table' | 'encoder'>): RouteHead | undefined {
  const { table, encoder } = compiled;
  const config = table.routerConfig;
  if (config.scoring !== 'head') return undefined;
  return trainHead(
    table.ordered().map(([, r]) => r),
    config.routes.length,
    encoder.dimensions,
  );
}

export function cacheDirOf(option: string | false | undefined): string | undefined {
  return option === false ? undefined : (option ?? process.env.SEMROUTE_CACHE_DIR ?? '.semroute-cache');
}

export async function compile(loaded: LoadedRouterConfig, options: CompileOptions): Promise<Compiled> {
  const { config, file } = checkRouterConfig(loaded);
  const encoder =
    options.encoder ??
    (await createEncoder({
      type: config.encoder_type ?? undefined,
      name: config.encoder_name ?? undefined,
      options: config.encoder_options,
      fetch: options.fetch,
      file,
    }));
  const ownsEncoder = options.encoder === undefined;
  try {
    return await build(loaded, config, encoder, ownsEncoder, options);
  } catch (error) {
    if (ownsEncoder) await encoder.close();
    throw error;
  }
}

async function build(
  loaded: LoadedRouterConfig,
  config: RouterConfig,
  encoder: Encoder,
  ownsEncoder: boolean,
  options: CompileOptions,
): Promise<Compiled> {
  const cacheDir = cacheDirOf(options.cacheDir);
  const { utterances } = loaded;
  const indexType = options.index ?? config.index.type;
  const kindName = chooseIndexKind(indexType, utterances.length, config.index.exact_below);
  const kind = indexKind(kindName, loaded.file);
  const key = artefactKey(encoder.id, utterances, config.index, kindName);
  const cached =
    cacheDir === undefined ? undefined : await readArtefact(cacheDir, key).catch(() => undefined);
  const usable =
    cached !== undefined && cached.manifest.dimensions === encoder.dimensions ? cached : undefined;

  const table = new RouteTable(config);
  let index: VectorIndex;
  let entries: Array<{
    label: number;
    route: string;
    text: string;
    template: string | undefined;
    vector: Float32Array;
  }>;
  if (usable !== undefined) {
    entries = usable.manifest.utterances.map((u, i) => ({ ...u, vector: usable.vectors[i]! }));
    index = await kind.load(
      usable.indexFile,
      encoder.dimensions,
      config.index,
      entries.map((e) => e.label),
      entries.map((e) => e.vector),
    );
  } else {
    const vectors = await encoder.embed(
      utterances.map((u) => u.text),
      { onProgress: options.onProgress },
    );
    entries = utterances.map((u, i) => ({ label: i, ...u, vector: vectors[i]! }));
    index = kind.create(encoder.dimensions, config.index, vectors.length);
    index.add(
      vectors,
      entries.map((e) => e.label),
    );
  }
  table.rebuild();
  for (const { label, route, text, template, vector } of entries) {
    const at = table.indexOf(route);
    if (at === undefined) {
      throw new SemrouteError(
        ErrorCode.ARTEFACT_INVALID,
        `Compiled artefact ${key} names unknown route "${route}"`,
      );
    }
    table.add(label, { route: at, text, template, vector });
  }
  // Again, now that records exist: per-route utterance counts.
  table.rebuild();
  const compiled: Compiled = {
    encoder,
    ownsEncoder,
    index,
    table,
    cacheDir,
    key,
    indexType,
    hybrid: undefined,
  };
  const saved =
    usable !== undefined && cacheDir !== undefined && isHybrid(config)
      ? await readHybrid(cacheDir, key, config.routes.length, encoder.dimensions)
      : undefined;
  const savedHead =
    saved !== undefined && config.scoring === 'head'
      ? await readHead(cacheDir!, key, config.routes.length, encoder.dimensions)
      : undefined;
  compiled.hybrid =
    saved === undefined
      ? buildHybrid(compiled)
      : {
          centroids: saved.centroids,
          lexical: LexicalIndex.fromData(saved.lexical),
          head: savedHead ?? buildHead(compiled),
        };
  const headMissing = compiled.hybrid?.head !== undefined && savedHead === undefined;
  if (cacheDir !== undefined) {
    if (usable === undefined || (compiled.hybrid !== undefined && (saved === undefined || headMissing)))
      await saveArtefact(compiled).catch(() => undefined);
    table.applyFit(await readFit(cacheDir, key));
  }
  return compiled;
}

/** Writes the compiled artefact (vectors, index, manifest) under the cache folder. */
export async function saveArtefact(compiled: Compiled): Promise<void> {
  const { cacheDir, table, index, encoder, key } = compiled;
  if (cacheDir === undefined) return;
  const ordered = table.ordered();
  const manifest: ArtefactManifest = {
    version: ARTEFACT_VERSION,
    key,
    encoder: encoder.id,
    dimensions: encoder.dimensions,
    indexKind: index.kind,
    utterances: ordered.map(([label, r]) => ({
      label,
      route: table.nameAt(r.route),
      text: r.text,
      template: r.template,
    })),
    createdAt: new Date().toISOString(),
  };
  const persists = indexKind(index.kind).persists;
  if (compiled.hybrid !== undefined) {
    const { centroids, lexical, head } = compiled.hybrid;
    await writeHybrid(cacheDir, key, { centroids, lexical: lexical.toData() });
    if (head !== undefined) await writeHead(cacheDir, key, head);
  }
  // The manifest goes last: a folder without one is an unfinished write.
  await writeArtefact(
    cacheDir,
    manifest,
    ordered.map(([, r]) => r.vector),
    persists ? (file) => index.save(file) : undefined,
  );
}
