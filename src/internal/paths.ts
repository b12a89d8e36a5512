import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The package root: two levels above this file in both `src/internal` and `dist/internal`. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Where local models live. Default `<package>/models`; env `SEMROUTE_MODELS_DIR` overrides it
 * (useful when the package folder is read-only).
 */
export function modelsDir(): string {
  return process.env.SEMROUTE_MODELS_DIR ?? path.join(PACKAGE_ROOT, 'models');
}
