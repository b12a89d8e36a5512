#!/usr/bin/env node
import { exitWithParent } from '../dist/internal/lifeline.js';
import { main } from '../dist/cli/main.js';

// Started by a harness (tests, bench): end with it, however it ends.
exitWithParent();
// A reader that has had enough (`semroute route … | head -2`) closes the pipe: that ends the
// command quietly, as it does for any Unix tool, for every command.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
process.exitCode = await main(process.argv.slice(2));
// A `serve --workers` worker whose start failed: its IPC channel to the primary would keep it
// alive, so leave explicitly (the primary then stops instead of waiting). The primary forks its
// workers with SEMROUTE_WORKERS set (server/workers.ts): reading it spares every other command
// the node:cluster import.
if (process.env.SEMROUTE_WORKERS !== undefined) process.exit();
