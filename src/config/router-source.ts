/**
 * A router.json file as the loader reads it: validated and expanded, and remembered under the
 * compiled-artefact cache by the hash of its text, so that the next start from the same file
 * neither validates it again nor loads the schema library (about 65 ms of `semroute route`'s
 * cold start). The schema module is imported only when a file is new.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../internal/fs.js';
import { deepFreeze } from './freeze.js';
import { parseJson, readTextFile } from './json-source.js';
import type { LoadedRouterConfig } from './router-config.js';

/**
 * Bump whenever the router.json schema or template expansion changes what a file validates
 * into: remembered results of the old code are then ignored.
 */
const SOURCE_FORMAT = 3;

function sourceFile(cacheDir: string, file: string, text: string): string {
  const key = createHash('sha256')
    .update(`${SOURCE_FORMAT}\u0000${file}\u0000${text}`)
    .digest('hex')
    .slice(0, 32);
  return path.join(cacheDir, 'sources', `${key}.json`);
}

/** Loads and validates a router.json; with a cache folder, a file seen before skips validation. */
export async function loadRouterSource(
  file: string,
  cacheDir: string | undefined,
): Promise<LoadedRouterConfig> {
  const text = await readTextFile(file);
  const remembered = cacheDir === undefined ? undefined : sourceFile(cacheDir, file, text);
  if (remembered !== undefined) {
    const hit = await readFile(remembered, 'utf8').then(
      (json) => JSON.parse(json) as Omit<LoadedRouterConfig, 'file'>,
      () => undefined,
    );
    if (hit !== undefined) return deepFreeze({ ...hit, file });
  }
  const { validateRouterConfig } = await import('./router-config.js');
  const loaded = validateRouterConfig(parseJson(text, file), file);
  if (remembered !== undefined) {
    const { config, warnings, utterances } = loaded;
    // A cache that cannot be written only costs the next start its validation.
    await writeFileAtomic(remembered, JSON.stringify({ config, warnings, utterances })).catch(
      () => undefined,
    );
  }
  return loaded;
}
