/**
 * `semroute init`: a starter config.yaml and router.json in a folder of the user's own project
 * (the shipped examples live inside node_modules, where README's commands cannot point a
 * newcomer). Never overwrites a file unless asked.
 */
import { access, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../../internal/paths.js';
import { UsageError } from '../output.js';

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

export async function initCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { dir: { type: 'string', default: '.' }, force: { type: 'boolean', default: false } },
  });
  const dir = path.resolve(values.dir);
  const config = path.join(dir, 'config.yaml');
  const router = path.join(dir, 'router.json');
  if (!values.force) {
    const there = [];
    for (const f of [config, router]) if (await exists(f)) there.push(f);
    if (there.length > 0)
      throw new UsageError(
        `${there.join(' and ')} already exist${there.length === 1 ? 's' : ''}: --force replaces`,
      );
  }
  await mkdir(dir, { recursive: true });
  const starter = await readFile(path.join(PACKAGE_ROOT, 'routes', 'proxy.yaml'), 'utf8');
  await writeFile(
    config,
    starter
      .replace('auto_router_config_path: assistant.json', 'auto_router_config_path: router.json')
      .replace('npx semroute serve --config routes/proxy.yaml', 'npx semroute serve --config config.yaml'),
  );
  await copyFile(path.join(PACKAGE_ROOT, 'routes', 'assistant.json'), router);
  process.stdout.write(
    `wrote ${path.relative(process.cwd(), config) || config} and ${path.relative(process.cwd(), router) || router}
next:
  npx semroute fake-upstream --port 8001 &     # a local echo upstream, no keys needed
  npx semroute serve --config ${path.relative(process.cwd(), config) || config}
`,
  );
  return 0;
}
