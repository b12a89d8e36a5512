// Runs the CLI from source (the bench measures the code as it is, not a stale dist/).
import { main } from '../../src/cli/main.js';
import { exitWithParent } from '../../src/internal/lifeline.js';

exitWithParent();
process.exitCode = await main(process.argv.slice(2));
// A cluster worker (serve --workers) leaves explicitly, as bin/semroute.js does.
if (process.env.SEMROUTE_WORKERS !== undefined) process.exit();
