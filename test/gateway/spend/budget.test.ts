/** Budget windows, durations as LiteLLM writes them, and the shipped prices. */
import { describe, expect, it } from 'vitest';
import { BudgetDurationSchema } from '../../../src/config/budget-duration.js';
import { parseGatewayConfig } from '../../../src/config/gateway-schema.js';
import { toDeployment } from '../../../src/gateway/deployment.js';
import { budgetWindow } from '../../../src/gateway/spend/budget-window.js';
import { Ledger } from '../../../src/gateway/spend/ledger.js';
import { MemoryStateStore } from '../../../src/gateway/state/memory.js';
import { listedPrice } from '../../../src/gateway/price-table.js';

const duration = (text: string) => BudgetDurationSchema.parse(text);

describe('budget windows', () => {
  it('align to the epoch (days at midnight UTC) and to calendar months', () => {
    const now = Date.UTC(2026, 11, 3, 17, 5, 0);
    expect(budgetWindow(duration('1d'), now)).toEqual({
      start: Date.UTC(2026, 11, 3),
      end: Date.UTC(2026, 11, 4),
    });
    expect(budgetWindow(duration('1h'), now)).toEqual({
      start: Date.UTC(2026, 11, 3, 17),
      end: Date.UTC(2026, 11, 3, 18),
    });
    expect(budgetWindow(duration('30s'), now + 45_000).start).toBe(now + 30_000);
    // 1mo: this calendar month, whatever its length; 12mo: the calendar year.
    expect(budgetWindow(duration('1mo'), now)).toEqual({
      start: Date.UTC(2026, 11, 1),
      end: Date.UTC(2027, 0, 1),
    });
    expect(budgetWindow(duration('12mo'), now)).toEqual({
      start: Date.UTC(2026, 0, 1),
      end: Date.UTC(2027, 0, 1),
    });
    expect(budgetWindow(undefined, now)).toEqual({ start: 0, end: undefined });
  });

  it('a bad duration is an error naming what was expected', () => {
    for (const bad of ['30', '1w', '0d', '-1d', '1.5h', '']) {
      const result = BudgetDurationSchema.safeParse(bad);
      expect(result.success, bad).toBe(false);
    }
    expect(() =>
      parseGatewayConfig({
        model_list: [{ model_name: 'm', litellm_params: { model: 'openai/gpt-4o' } }],
        budget_duration: '1week',
      }),
    ).toThrow(/budget_duration.*"30s", "15m", "1h", "1d", "30d" or "1mo"/s);
  });
});

describe('the ledger', () => {
  it('a new window starts from zero; a refused request holds nothing', async () => {
    let now = Date.UTC(2026, 11, 3, 23, 59, 0);
    const ledger = new Ledger({ store: new MemoryStateStore(() => now), now: () => now });
    const account = { id: 'k', alias: 'team', maxBudgetUsd: 1, budgetDuration: duration('1d') };
    const tab = await ledger.open(account, 10);
    await tab.cover(0.4);
    await tab.settle(1.2, 'gpt');
    const refused = await ledger.open(account, 10);
    const error = await refused.cover(0.1).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'SEMROUTE_BUDGET_EXCEEDED',
      details: { scope: 'key', retryAt: Date.UTC(2026, 11, 4) },
    });
    await refused.settle(0, undefined);
    expect(await ledger.status(account)).toMatchObject({ spentUsd: 1.2, heldUsd: 0, budgetUsd: 1 });
    now = Date.UTC(2026, 11, 4, 0, 0, 1);
    const next = await ledger.open(account, 10);
    await expect(next.cover(0.1)).resolves.toBeUndefined();
    expect((await ledger.status(account)).spentUsd).toBe(0);
    expect(await ledger.totals('key')).toEqual(new Map([['team', 1.2]]));
    expect(await ledger.totals('model')).toEqual(new Map([['gpt', 1.2]]));
  });

  it("a key's tpm_limit counts the estimate, then the answer's real tokens", async () => {
    const now = Date.UTC(2026, 11, 3, 12, 0, 1);
    const store = new MemoryStateStore(() => now);
    const ledger = new Ledger({ store, now: () => now });
    const account = { id: 't', alias: 'tpm', tpm: 100 };
    const first = await ledger.open(account, 90);
    await first.settle(0, undefined, 30);
    // 30 used, not 90: another 60-token request fits.
    await (await ledger.open(account, 60)).settle(0, undefined, 60);
    await expect(ledger.open(account, 20)).rejects.toMatchObject({ code: 'SEMROUTE_KEY_LIMITED' });
  });
});

describe('shipped prices', () => {
  it('price a well-known model at its own provider; model_info wins; an api_base of its own is never guessed', () => {
    expect(listedPrice('openai', 'gpt-4o-mini')).toMatchObject({
      inputCostPerToken: 1.5e-7,
      outputCostPerToken: 6e-7,
    });
    expect(listedPrice('openai', 'toString')).toBeUndefined();
    const config = parseGatewayConfig({
      model_list: [
        { model_name: 'a', litellm_params: { model: 'openai/gpt-4o-mini', api_key: 'sk-x' } },
        {
          model_name: 'b',
          litellm_params: { model: 'openai/gpt-4o-mini', api_key: 'sk-x' },
          model_info: { input_cost_per_token: 1e-6 },
        },
        {
          model_name: 'c',
          litellm_params: { model: 'openai/gpt-4o-mini', api_base: 'http://127.0.0.1:9/v1' },
        },
        { model_name: 'd', litellm_params: { model: 'anthropic/claude-3-haiku-20240307', api_key: 'sk-x' } },
      ],
    });
    const [a, b, c, d] = config.model_list.map((e, i) => toDeployment(e, config.resolved.targets[i]));
    expect(a!.info).toMatchObject({
      inputCostPerToken: 1.5e-7,
      outputCostPerToken: 6e-7,
      maxOutputTokens: 16384,
      priceSource: 'price_table',
    });
    expect(b!.info).toMatchObject({
      inputCostPerToken: 1e-6,
      outputCostPerToken: undefined,
      priceSource: 'model_info',
    });
    expect(c!.info).toMatchObject({ inputCostPerToken: undefined, priceSource: undefined });
    expect(d!.info).toMatchObject({ inputCostPerToken: 2.5e-7, outputCostPerToken: 1.25e-6 });
  });
});

describe('budget settings in config.yaml', () => {
  it('a bad key budget names the file, the path and what was expected', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { loadProxyConfig } = await import('../../../src/config/proxy-config.js');
    const dir = await mkdtemp(path.join(tmpdir(), 'budget-'));
    try {
      const file = path.join(dir, 'config.yaml');
      await writeFile(
        file,
        `model_list:\n  - model_name: m\n    litellm_params: { model: openai/gpt-4o, api_key: sk-x }\ngeneral_settings:\n  master_key: sk-master-123456\n  keys:\n    - key: sk-key-123456789\n      max_budget: lots\n`,
      );
      await expect(loadProxyConfig(file, {})).rejects.toThrow(
        /config\.yaml.*general_settings\.keys\.0\.max_budget: .*expected number/s,
      );
      await writeFile(
        file,
        `model_list:\n  - model_name: m\n    litellm_params: { model: openai/gpt-4o, api_key: sk-x }\nlitellm_settings:\n  max_budget: 10\n  budget_duration: 1mo\n`,
      );
      const config = await loadProxyConfig(file, {});
      expect(config.gateway.max_budget).toBe(10);
      expect(config.gateway.budget_duration).toEqual({ count: 1, unit: 'mo', text: '1mo' });
      expect(config.otel).toBe(false);
      // LiteLLM's callbacks: otel turns traces on; a list of something else is an error naming it.
      await writeFile(
        file,
        `model_list:\n  - model_name: m\n    litellm_params: { model: openai/gpt-4o, api_key: sk-x }\nlitellm_settings:\n  callbacks: ["otel"]\n`,
      );
      expect((await loadProxyConfig(file, {})).otel).toBe(true);
      await writeFile(
        file,
        `model_list:\n  - model_name: m\n    litellm_params: { model: openai/gpt-4o, api_key: sk-x }\nlitellm_settings:\n  callbacks: { otel: true }\n`,
      );
      await expect(loadProxyConfig(file, {})).rejects.toThrow(
        /litellm_settings\.callbacks: expected a list of callback names/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
