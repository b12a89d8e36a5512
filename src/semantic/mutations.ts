/**
 * Changing a compiled router in place (add, remove, update a route; a whole new config on hot
 * reload): utterances present before keep their vectors, only new ones are embedded, and the
 * change is all or nothing — the one step that can fail late (embedding) runs before anything
 * is touched.
 */
import type { RouterConfig } from '../config/router-config.js';
import { ErrorCode, SemrouteError } from '../errors.js';
import { artefactKey } from './artefact.js';
import { buildHybrid, type Compiled, saveArtefact } from './compile.js';
import { checkRouterConfig } from './validate.js';

export async function applyChange(compiled: Compiled, next: RouterConfig, file?: string): Promise<void> {
  const { table, index, encoder } = compiled;
  const current = table.routerConfig;
  // Validated the same way a file load is; this step may throw.
  const { validateRouterConfig } = await import('../config/router-config.js');
  const loaded = checkRouterConfig(validateRouterConfig(structuredClone(next), file));
  const { config } = loaded;
  if (config.encoder_type !== current.encoder_type || config.encoder_name !== current.encoder_name) {
    throw new SemrouteError(ErrorCode.CONFIG_INVALID, 'Changing the encoder needs a new SemanticRouter', {
      path: 'encoder_type',
      expected: `${current.encoder_type ?? 'use-lite'} (unchanged)`,
    });
  }
  const have = new Map<string, number>();
  for (const [label, rec] of table.records) have.set(`${table.nameAt(rec.route)}\u0000${rec.text}`, label);
  const keep = new Set<number>();
  const fresh = loaded.utterances.filter((u) => {
    const label = have.get(`${u.route}\u0000${u.text}`);
    if (label !== undefined) keep.add(label);
    return label === undefined;
  });
  const vectors = await encoder.embed(fresh.map((u) => u.text));

  // Nothing has changed yet; from here on nothing can fail.
  const removed = [...table.records.keys()].filter((label) => !keep.has(label));
  const routeIndex = new Map(config.routes.map((r, i) => [r.name, i]));
  index.remove(removed);
  for (const label of removed) table.records.delete(label);
  for (const rec of table.records.values()) rec.route = routeIndex.get(current.routes[rec.route]!.name)!;
  const labels = fresh.map(() => table.nextLabel++);
  index.add(vectors, labels);
  fresh.forEach((u, i) => {
    table.add(labels[i]!, {
      route: routeIndex.get(u.route)!,
      text: u.text,
      template: u.template,
      vector: vectors[i]!,
    });
  });
  table.reset(config);
  compiled.hybrid = buildHybrid(compiled);
  compiled.key = artefactKey(encoder.id, loaded.utterances, config.index, index.kind);
  if (compiled.cacheDir !== undefined) await saveArtefact(compiled).catch(() => undefined);
}
