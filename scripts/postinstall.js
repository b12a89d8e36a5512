// Builds the default USE-lite model when semroute is installed as a dependency.
// In a checkout (no dist/ yet) `prepare` builds the code first and then the model.
// A failure here must not fail the install: the model is also built on first use.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renewHiddenLockfile } from './hidden-lockfile.js';

const cli = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(cli)) {
  try {
    const { main } = await import(cli.href);
    await main(['models', 'build', '--quiet']);
  } catch (error) {
    console.warn(`semroute: model build deferred to first use (${error?.message ?? error})`);
  }
}
// Installed as a dependency, the model was written into this package's folder.
renewHiddenLockfile(fileURLToPath(new URL('..', import.meta.url)));
