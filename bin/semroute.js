#!/usr/bin/env node
import cluster from 'node:cluster';
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
// A `serve --workers` worker whose start failed: its IPC channel to the primary would keep it
// alive, so leave explicitly (the primary then stops instead of waiting).
if (cluster.isWorker) process.exit();
