/**
 * The `semroute` command line. Each command is imported only when it runs, so that `route`
 * loads neither the proxy nor an SDK it does not use. Output formats are a contract: checks
 * outside the tests read them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../internal/paths.js';
import { HELP, OVERVIEW } from './help.js';
import { reportError } from './output.js';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  init: async () => (await import('./commands/init.js')).initCommand,
  route: async () => (await import('./commands/route.js')).routeCommand,
  compile: async () => (await import('./commands/compile.js')).compileCommand,
  lint: async () => (await import('./commands/lint.js')).lintCommand,
  eval: async () => (await import('./commands/eval.js')).evalCommand,
  embed: async () => (await import('./commands/embed.js')).embedCommand,
  models: async () => (await import('./commands/models.js')).modelsCommand,
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  check: async () => (await import('./commands/check.js')).checkCommand,
  calibrate: async () => (await import('./commands/calibrate.js')).calibrateCommand,
  predict: async () => (await import('./commands/predict.js')).predictCommand,
  replay: async () => (await import('./commands/replay.js')).replayCommand,
  drift: async () => (await import('./commands/drift.js')).driftCommand,
  'fake-upstream': async () => (await import('./commands/fake-upstream.js')).fakeUpstreamCommand,
};

function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

const wantsHelp = (argv: readonly string[]) => argv.includes('--help') || argv.includes('-h');

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    process.stdout.write(`${(topic !== undefined && HELP[topic]) || OVERVIEW}\n`);
    // No command at all is a usage error; asking for help is not.
    return command === undefined ? 2 : 0;
  }
  const load = COMMANDS[command];
  if (load === undefined) {
    process.stderr.write(`unknown command "${command}"\n\n${OVERVIEW}\n`);
    return 2;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(`${HELP[command]}\n`);
    return 0;
  }
  try {
    return await (await load())(rest);
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`usage error: ${(error as Error).message}\n\n${HELP[command]}\n`);
      return 2;
    }
    return reportError(error);
  }
}
