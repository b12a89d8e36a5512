// Preloaded (`node --import`) into bench processes that are not semroute's own CLI (the bare
// proxy, the load generator, Portkey): they end with the bench runner, however it ends.
import { exitWithParent } from '../../dist/internal/lifeline.js';

exitWithParent();
