/**
 * The route page end to end: Debian's chromium driven by playwright-core against a real proxy
 * on 127.0.0.1. Adds a templated route, tries a query against the unsaved edits, is refused a
 * bad save (errors beside the field, file untouched), saves, reloads and finds the route; a
 * route named <script> stays text. A screenshot goes to test-output/.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../../src/server/serve.js';
import { type FakeUpstream, startFakeUpstream } from '../../../src/fake-upstream/fake-upstream.js';
import { tempDir } from '../../helpers/encoder.js';

const MASTER = 'sk-route-page-master-0123';
const CHROMIUM = process.env.SEMROUTE_CHROMIUM ?? '/usr/bin/chromium';
const OUTPUT = path.resolve('test-output');
const XSS = '<script>alert(1)</script>';
/** The page waits on the server (compiles, reloads): generous on a loaded CI machine. */
const POLL = { timeout: 45_000 };

let upstream: FakeUpstream;
let server: Awaited<ReturnType<typeof serve>>;
let dir: { dir: string; cleanup: () => Promise<void> };
let routerFile: string;
let context: BrowserContext;
let page: Page;
const dialogs: string[] = [];
const pageErrors: string[] = [];
/** What the browser's console said at error level (a failed load is one: "…status of 401"). */
const consoleErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `chromium not found at ${CHROMIUM}; the route page test needs it (Debian: apt-get install chromium; .ci/run does this)`,
    );
  }
  upstream = await startFakeUpstream();
  dir = await tempDir();
  routerFile = path.join(dir.dir, 'router.json');
  await writeFile(
    routerFile,
    JSON.stringify(
      {
        slots: { city: ['Paris', 'London', 'Tokyo'] },
        routes: [
          { name: 'coding', utterances: ['how to code a program in [language]', 'fix this bug in my code'] },
          { name: 'chitchat', utterances: ['hello, how are you', 'tell me a joke', 'good morning'] },
        ],
      },
      null,
      2,
    ),
  );
  const configFile = path.join(dir.dir, 'config.yaml');
  await writeFile(
    configFile,
    `
model_list:
  - model_name: general
    litellm_params: { model: openai/gpt-4o-mini, api_base: ${upstream.url}, api_key: sk-up }
    model_info: { input_cost_per_token: 0.00000015, output_cost_per_token: 0.0000006 }
  - model_name: coding
    litellm_params: { model: openai/gpt-4.1, api_base: ${upstream.url}, api_key: sk-up }
    model_info: { input_cost_per_token: 0.000002, output_cost_per_token: 0.000008 }
  - model_name: chitchat
    litellm_params: { model: openai/gpt-4o-mini, api_base: ${upstream.url}, api_key: sk-up }
  - model_name: weather
    litellm_params: { model: openai/gpt-4o-mini, api_base: ${upstream.url}, api_key: sk-up }
  # Any route name is a group name too: the route page's XSS test saves a route named this.
  - model_name: "${XSS}"
    litellm_params: { model: openai/gpt-4o-mini, api_base: ${upstream.url}, api_key: sk-up }
  - model_name: smart-router
    litellm_params:
      model: auto_router/complexity_router
      complexity_router_config: { tiers: { SIMPLE: general, COMPLEX: coding } }
  - model_name: auto_router1
    litellm_params: { model: auto_router/auto_router_1, auto_router_config_path: router.json, auto_router_default_model: general }
general_settings:
  master_key: ${MASTER}
  decision_log: { path: decisions.jsonl, keep_prompts: true }
`,
  );
  server = await serve({
    config: configFile,
    port: 0,
    signals: false,
    watch: false,
    logger: { level: 'silent' } as never,
  });
  const profile = await mkdtemp(path.join(os.tmpdir(), 'semroute-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  await upstream?.close();
  await dir?.cleanup();
});

const ready = () => page.waitForSelector('body[data-ready="true"]');
const routeCards = () => page.locator('article.route');
const lastCard = () => routeCards().last();

describe('route page in headless chromium', () => {
  it('asks for the master key, then shows the routes of the config', async () => {
    const first = await page.goto(`${server.url}/ui`);
    // The sign-in form is the page asked for: no failed load in the console before signing in.
    expect(first?.status()).toBe(200);
    await page.getByLabel('Master key').waitFor();
    await page.waitForLoadState('networkidle');
    expect(consoleErrors).toEqual([]);
    await page.getByLabel('Master key').fill('not-the-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), POLL).toContain('not the master key');
    await page.getByLabel('Master key').fill(MASTER);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await ready();
    await page.waitForLoadState('networkidle');
    // The one error logged: the wrong key's 401, nothing from the page after signing in.
    expect(consoleErrors.filter((e) => !e.includes('401'))).toEqual([]);
    expect(consoleErrors.length).toBeLessThanOrEqual(1);
    expect(await routeCards().count()).toBe(2);
    expect(await page.locator('#router-select').inputValue()).toBe('auto_router1');
    expect(await page.locator('#router-file').textContent()).toContain('router.json');
    // The page's own data needs the session: the same call without the cookie is refused.
    const bare = await fetch(`${server.url}/ui/api/state`);
    expect(bare.status).toBe(401);
  });

  it('adds a route with a template and previews its variants, and names an undefined slot', async () => {
    await page.getByRole('button', { name: 'Add route' }).click();
    const card = lastCard();
    await expect
      .poll(() =>
        page.evaluate<string | undefined>("document.activeElement?.closest('article')?.dataset.route"),
      )
      .toBe('2');
    await card.getByLabel('Name').fill('weather');
    await card.getByRole('textbox', { name: /^Utterance 1 of/ }).fill('what is the weather like in [city]');
    await expect.poll(() => card.locator('.preview').textContent(), POLL).toContain('3 variants');
    expect(await card.locator('.variants li').allTextContents()).toEqual([
      'what is the weather like in Paris',
      'what is the weather like in London',
      'what is the weather like in Tokyo',
    ]);
    expect(await card.locator('.preview').textContent()).toBe(
      '3 variantswhat is the weather like in Pariswhat is the weather like in Londonwhat is the weather like in Tokyo',
    );
    await card.getByRole('button', { name: 'Add utterance' }).click();
    await card.locator('input.utterance').nth(1).fill('is it raining on [planet]');
    await expect.poll(() => card.locator('.preview').nth(1).textContent(), POLL).toMatch(/planet/);
    await card.locator('input.utterance').nth(1).fill('will it rain tomorrow in [city]');
    await expect.poll(() => card.locator('.preview').nth(1).textContent(), POLL).toContain('3 variants');
    expect(await page.locator('#dirty').isVisible()).toBe(true);
  });

  it('tries a query against the unsaved edits: bars, score against threshold, the model that would serve', async () => {
    await page.getByLabel('Prompt').fill("what's the weather like in Paris today?");
    await page.getByRole('button', { name: 'Route it' }).click();
    await expect.poll(() => page.locator('.decision .big').textContent(), POLL).toBe('weather');
    const text = (await page.locator('#result').textContent()) ?? '';
    expect(text).toMatch(/score 0\.\d{4} ≥ threshold 0\.47/);
    expect(text).toContain('served by weather');
    expect(text).toContain('from template “what is the weather like in [city]”');
    expect(text).toContain('unsaved edits');
    expect(await page.locator('#result .bars li').count()).toBeGreaterThanOrEqual(2);
    // The hybrid score's parts for each candidate.
    expect(await page.locator('#result .bars .parts').first().textContent()).toMatch(
      /^kNN -?\d\.\d\d · centroid -?\d\.\d\d · words \d\.\d\d$/,
    );
    // Nothing is saved yet: the file still has two routes.
    expect(JSON.parse(await readFile(routerFile, 'utf8')).routes).toHaveLength(2);
  });

  it('checks the unsaved routes as semroute lint does, and lists what it finds', async () => {
    await page.getByRole('button', { name: 'Check' }).click();
    await expect
      .poll(() => page.locator('#lint-result').textContent(), POLL)
      .toMatch(/\d+ routes, \d+ utterances/);
    const summary = (await page.locator('#lint-result p').first().textContent()) ?? '';
    const findings = await page.locator('#lint-result .findings li').count();
    const [, errors, warnings] = /(\d+) error\(s\), (\d+) warning\(s\)/.exec(summary) ?? [];
    expect(findings).toBe(Number(errors) + Number(warnings));
  });

  it('refuses a save that fails validation: errors beside the field, nothing changed', async () => {
    const before = await readFile(routerFile, 'utf8');
    await page.getByRole('button', { name: 'Add route' }).click();
    const card = lastCard();
    await card.getByLabel('Name').fill('weather');
    await card.getByRole('textbox', { name: /^Utterance 1 of/ }).fill('duplicate name');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('#status').textContent(), POLL).toContain('Not saved');
    expect(await card.locator('[data-error-for="routes[3].name"]').textContent()).toContain(
      'already the name',
    );
    expect(await card.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
    expect(await readFile(routerFile, 'utf8')).toBe(before);
    expect(existsSync(`${routerFile}.bak`)).toBe(false);
    // Fixed: a route whose name a browser would run if it were HTML.
    await card.getByLabel('Name').fill(XSS);
  });

  it('saves atomically with a backup, through the reload path, and the proxy routes with it', async () => {
    // An operator's 0600 file (it may hold an encoder's api_key) stays 0600, and so does its backup.
    await chmod(routerFile, 0o600);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('#status').textContent(), POLL).toContain('Saved router.json');
    expect((await stat(routerFile)).mode & 0o777).toBe(0o600);
    expect((await stat(`${routerFile}.bak`)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(routerFile, 'utf8')) as { routes: Array<{ name: string }> };
    expect(saved.routes.map((r) => r.name)).toEqual(['coding', 'chitchat', 'weather', XSS]);
    expect(JSON.parse(await readFile(`${routerFile}.bak`, 'utf8')).routes).toHaveLength(2);
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: MASTER, maxRetries: 0 });
    const { response } = await client.chat.completions
      .create({
        model: 'auto_router1',
        messages: [{ role: 'user', content: 'will it rain tomorrow in Tokyo?' }],
      })
      .withResponse();
    expect(response.headers.get('x-semroute-route')).toBe('weather');
  });

  it('after a reload, finds the route persisted, shows <script> as text, and lists the decision', async () => {
    await page.reload();
    await ready();
    expect(await routeCards().count()).toBe(4);
    expect(await page.locator('article.route h3').allTextContents()).toContain(XSS);
    expect(await routeCards().nth(3).getByLabel('Name').inputValue()).toBe(XSS);
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.locator('#counts').textContent()).toContain('weather');
    expect(await page.locator('#recent tbody tr').count()).toBeGreaterThanOrEqual(1);
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.getByLabel('Prompt').fill('is it going to rain tomorrow in London?');
    await page.getByRole('button', { name: 'Route it' }).click();
    await expect.poll(() => page.locator('.decision .big').textContent(), POLL).toBe('weather');
    expect(await page.locator('#result').textContent()).toContain('saved routes');
    await mkdir(OUTPUT, { recursive: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: path.join(OUTPUT, 'route-page.png'), fullPage: true });
  });

  it('labels every control, works from the keyboard, and fits a phone screen', async () => {
    // Runs in the page (a string: this file is type-checked without the DOM library).
    const unlabelled = await page.evaluate<string[]>(`
      [...document.querySelectorAll('input, select, textarea, button')]
        .filter((e) => !(e.labels?.length ? e.labels[0].textContent : (e.getAttribute('aria-label') ?? e.textContent))?.trim())
        .map((e) => e.outerHTML.slice(0, 80))
    `);
    expect(unlabelled).toEqual([]);
    const before = await routeCards().count();
    await page.locator('#add-route').focus();
    await page.keyboard.press('Enter');
    expect(await routeCards().count()).toBe(before + 1);
    await page.keyboard.type('typed-by-keyboard');
    expect(await lastCard().getByLabel('Name').inputValue()).toBe('typed-by-keyboard');
    await page.getByRole('button', { name: 'Revert' }).click();
    expect(await routeCards().count()).toBe(before);
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(OUTPUT, 'route-page-phone.png') });
  });
});

describe('route page API', () => {
  const auth = { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' };

  it('serves the page with a strict Content-Security-Policy', async () => {
    const res = await fetch(`${server.url}/ui`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('answers a bad save with every problem and its path, and leaves the file alone', async () => {
    const before = await readFile(routerFile, 'utf8');
    const res = await fetch(`${server.url}/ui/api/routers/auto_router1`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({
        config: {
          routes: [
            { name: '', utterances: [] },
            { name: 'x', utterances: ['a'], score_threshold: 3 },
          ],
        },
      }),
    });
    expect(res.status).toBe(400);
    const { errors } = (await res.json()) as { errors: Array<{ path: string }> };
    expect(errors.map((e) => e.path)).toEqual(
      expect.arrayContaining(['routes[0].name', 'routes[0].utterances', 'routes[1].score_threshold']),
    );
    expect(await readFile(routerFile, 'utf8')).toBe(before);
  });

  it('refuses models that are not semantic routers', async () => {
    const res = await fetch(`${server.url}/ui/api/try`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ model: 'general', prompt: 'hi' }),
    });
    expect(res.status).toBe(404);
  });

  it("lists a complexity router's decisions with the tier, the model and what it saved", async () => {
    const client = new OpenAI({ apiKey: MASTER, baseURL: `${server.url}/v1`, maxRetries: 0 });
    await client.chat.completions.create({
      model: 'smart-router',
      messages: [{ role: 'user', content: 'What is 2+2?' }],
    });
    await page.reload();
    await ready();
    await expect.poll(() => page.locator('#recent tbody').textContent(), POLL).toContain('SIMPLE → general');
    expect(await page.locator('#recent tbody').textContent()).toMatch(/score -0\.15\$0\.0000\d/);
    expect(await page.locator('#counts').textContent()).toMatch(
      /smart-router · 1 request · saved \$0\.\d{4}/,
    );
    expect(pageErrors).toEqual([]);
  });

  it('shows unrouted traffic from the decision log, and takes its proposal into the editor in one click', async () => {
    const client = new OpenAI({ apiKey: MASTER, baseURL: `${server.url}/v1`, maxRetries: 0 });
    for (const content of [
      'how do I bake sourdough bread',
      'a recipe for chocolate cake',
      'how long do I boil an egg',
      'how to bake bread at home',
      'a simple cake recipe for beginners',
      'how do I make pancakes',
    ])
      await client.chat.completions.create({ model: 'auto_router1', messages: [{ role: 'user', content }] });
    server.loop.decisionLog!.flush();
    await page.reload();
    await ready();
    const before = await routeCards().count();
    await page.getByRole('button', { name: 'Read the decision log' }).click();
    await expect.poll(() => page.locator('#drift-result').textContent(), POLL).toMatch(/\d+ prompts/);
    expect(await page.locator('#drift-result').textContent()).toMatch(/bake|cake/);
    await page.locator('#drift-result button').first().click();
    await expect.poll(() => page.locator('#dirty').isVisible(), POLL).toBe(true);
    const after = await routeCards().count();
    // A new route, or the utterances added to the route they were nearest to.
    expect(after === before + 1 || (await page.locator('input.utterance').count()) > 0).toBe(true);
    expect(pageErrors).toEqual([]);
    await page.getByRole('button', { name: 'Revert' }).click();
  });
});
