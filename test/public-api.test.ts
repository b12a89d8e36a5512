/**
 * The public surface, as TypeScript sees it (values and types): a change fails here until
 * test/fixtures/public-api.txt is updated, and CHANGELOG.md says what changed for users.
 * `SEMROUTE_UPDATE_API=1 npx vitest run test/public-api.test.ts` rewrites the report.
 */
import { readFile, writeFile } from 'node:fs/promises';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const REPORT = 'test/fixtures/public-api.txt';

function surface(): string[] {
  const program = ts.createProgram(['src/index.ts'], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const file = program.getSourceFile('src/index.ts')!;
  const module = checker.getSymbolAtLocation(file)!;
  return checker
    .getExportsOfModule(module)
    .map((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const kind =
        target.flags & ts.SymbolFlags.Class
          ? 'class'
          : target.flags & ts.SymbolFlags.Function
            ? 'function'
            : target.flags & ts.SymbolFlags.Variable
              ? 'const'
              : target.flags & ts.SymbolFlags.Interface
                ? 'interface'
                : 'type';
      return `${kind} ${symbol.getName()}`;
    })
    .sort();
}

describe('the public API', () => {
  it('is what the report says, nothing more and nothing less', async () => {
    const actual = `${surface().join('\n')}\n`;
    if (process.env.SEMROUTE_UPDATE_API === '1') await writeFile(REPORT, actual);
    expect(actual).toBe(await readFile(REPORT, 'utf8'));
  }, 60_000);

  it('keeps implementation classes and zod schemas internal', () => {
    const names = surface().map((line) => line.split(' ')[1]);
    for (const internal of [
      'UseLiteEncoder',
      'HnswIndex',
      'ExactIndex',
      'RouterConfigSchema',
      'GatewayConfigSchema',
      'MemoryStateStore',
      'Pipeline',
    ])
      expect(names).not.toContain(internal);
  }, 60_000);
});
