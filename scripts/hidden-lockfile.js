// npm records node_modules in node_modules/.package-lock.json and trusts that record only while
// no package folder is newer than it. Our install scripts write under node_modules (the patched
// hnswlib-node build, the model beside semroute): after them, the record is renewed, so that the
// next `npx semroute` does not see a stale tree and install (prepare, build, model) all over again.
import { existsSync, utimesSync } from 'node:fs';
import path from 'node:path';

/** Renews the record of the node_modules folder that holds `packageDir`, when there is one. */
export function renewHiddenLockfile(packageDir) {
  for (let dir = path.dirname(packageDir); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (path.basename(dir) !== 'node_modules') continue;
    const record = path.join(dir, '.package-lock.json');
    if (!existsSync(record)) return;
    const now = new Date();
    try {
      utimesSync(record, now, now);
    } catch {
      // Read-only trees: npm will re-check, nothing breaks.
    }
    return;
  }
}
