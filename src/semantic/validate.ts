/**
 * The checks a router.json needs beyond its schema, against what this build of semroute has:
 * an `encoder_type` it knows and an `index.type` it has. Run before anything is compiled or
 * saved, so the route page and `semroute lint` report them as the loader does.
 */
import type { LoadedRouterConfig } from '../config/router-config.js';
import { encoderType } from '../embeddings/create.js';
import { indexKind } from '../vector-index/create.js';

export function checkRouterConfig(loaded: LoadedRouterConfig): LoadedRouterConfig {
  const { config, file } = loaded;
  encoderType({ type: config.encoder_type ?? undefined, file });
  if (config.index.type !== 'auto') indexKind(config.index.type, file);
  return loaded;
}
