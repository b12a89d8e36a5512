// Runs the CLI from source (the bench measures the code as it is, not a stale dist/).
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
if ((await import('node:cluster')).default.isWorker) process.exit();
