/** docs/providers.md's table says what the provider table does: every prefix, base URL and key variable. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../src/config/providers.js';

describe('docs/providers.md provider table', () => {
  it('has a row per provider with its default base URL and key variables', async () => {
    const readme = await readFile('docs/providers.md', 'utf8');
    const table = readme.slice(
      readme.indexOf('# Providers'),
      readme.indexOf('A prefix semroute cannot call'),
    );
    const rows = table.split('\n').filter((l) => l.startsWith('| `'));
    for (const p of Object.values(PROVIDERS)) {
      const row = rows.find((r) => r.split('|')[1]!.includes(`\`${p.name}/\``));
      expect(row, p.name).toBeDefined();
      if (p.baseUrl !== undefined) expect(row, p.name).toContain(`\`${p.baseUrl}\``);
      else expect(row, p.name).toContain('`api_base` required');
      for (const variable of [...p.baseEnv, ...p.keyEnv])
        expect(row, `${p.name} ${variable}`).toContain(`\`${variable}\``);
    }
  });
});
