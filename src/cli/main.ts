/** The `semroute` command line. Output formats are a contract: checks outside the tests read them. */
import { compileCommand, compileHelp } from './commands/compile.js';
import { embedCommand, embedHelp } from './commands/embed.js';
import { evalCommand, evalHelp } from './commands/eval.js';
import { modelsCommand, modelsHelp } from './commands/models.js';
import { routeCommand, routeHelp } from './commands/route.js';
import { fakeUpstreamCommand, serveCommand, serveHelp } from './commands/serve.js';
import { reportError } from './output.js';

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  route: routeCommand,
  compile: compileCommand,
  eval: evalCommand,
  embed: embedCommand,
  models: modelsCommand,
  serve: serveCommand,
  'fake-upstream': fakeUpstreamCommand,
};

const HELP = [
  'semroute — semantic routing for LLM traffic',
  '',
  routeHelp,
  compileHelp,
  evalHelp,
  embedHelp,
  modelsHelp,
  serveHelp,
].join('\n\n');

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (run === undefined) {
    process.stderr.write(`unknown command "${command}"\n\n${HELP}\n`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`usage error: ${(error as Error).message}\n`);
      return 2;
    }
    return reportError(error);
  }
}
