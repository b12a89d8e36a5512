/**
 * The route page at `/ui`: edit the router.json files the config names, try prompts against the
 * edits before saving, save through the hot-reload path, and watch recent decisions. Plain HTML,
 * CSS and JS from `ui/` (no build step), served with a strict Content-Security-Policy; the page
 * writes every value with textContent, never as HTML.
 *
 * Auth: with a master key, the browser logs in once with a form; the cookie it gets is an HMAC
 * of the master key (HttpOnly, SameSite=Strict, Path=/ui), so it dies when the key changes and
 * never carries the key itself. `Authorization: Bearer <master key>` works too.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BUILTIN_SLOTS } from '../config/slots.js';
import { expandUtterance } from '../config/templates.js';
import { validateRouterConfig } from '../config/router-config.js';
import { ErrorCode, isSemrouteError, SemrouteError } from '../errors.js';
import type { ChatBody } from '../gateway/upstream.js';
import { writeFileAtomic } from '../internal/fs.js';
import type { SemanticRouter } from '../semantic/semantic-router.js';
import type { DecisionLog } from './decisions.js';
import { explanationBody } from './explain.js';
import type { ProxyRuntime } from './runtime.js';
import { sameSecret } from './secrets.js';

/** The reload reason of a save from the route page (other workers are told of these). */
export const ROUTE_PAGE_SAVE = 'route page save';

const UI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../ui');
const COOKIE = 'semroute_ui';
const PREVIEW_VARIANTS = 50;

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

function asset(name: string): string {
  return readFileSync(path.join(UI_DIR, name), 'utf8');
}

function sessionToken(masterKey: string): string {
  return createHmac('sha256', masterKey).update('semroute-ui-session-v1').digest('hex');
}

function cookieValue(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** Whether a request to /ui carries the route page's session cookie for this master key. */
export function hasUiSession(request: FastifyRequest, masterKey: string): boolean {
  const value = cookieValue(request, COOKIE);
  return value !== undefined && sameSecret(value, sessionToken(masterKey));
}

const LOGIN_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

/** Answers 401 with the login page (a form, no script): for a browser without a session. */
export function sendLogin(reply: FastifyReply, message?: string): FastifyReply {
  // `message` is always our own text, never the request's.
  const page = asset('login.html').replace(
    '<!--message-->',
    message === undefined ? '' : `<p class="error" role="alert">${message}</p>`,
  );
  return reply
    .code(401)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', LOGIN_CSP)
    .send(page);
}

interface EditableRouter {
  model: string;
  kind: 'auto_router' | 'auto';
  /** Absolute path of its router.json, or undefined when it is inline in config.yaml (read-only). */
  file: string | undefined;
  defaultModel: string | undefined;
}

function editableRouters(runtime: ProxyRuntime): EditableRouter[] {
  const { config } = runtime.serving;
  const base = config.file === undefined ? process.cwd() : path.dirname(config.file);
  const out: EditableRouter[] = [];
  for (const entry of config.gateway.model_list) {
    const p = entry.litellm_params;
    if (!p.model.startsWith('auto_router/')) continue;
    out.push({
      model: entry.model_name,
      kind: 'auto_router',
      file:
        p.auto_router_config_path === undefined ? undefined : path.resolve(base, p.auto_router_config_path),
      defaultModel: p.auto_router_default_model,
    });
  }
  if (config.gateway.auto_router_config_path !== undefined) {
    out.push({
      model: 'auto',
      kind: 'auto',
      file: path.resolve(base, config.gateway.auto_router_config_path),
      defaultModel: undefined,
    });
  }
  return out;
}

/** Problems as `{path, message}` rows the page shows beside the fields. */
function problems(error: unknown): Array<{ path: string; message: string; code: string }> {
  if (!isSemrouteError(error)) return [{ path: '', message: (error as Error).message, code: 'UNKNOWN' }];
  const issues = error.details?.issues as Array<{ path: string; message: string }> | undefined;
  if (issues !== undefined) return issues.map((i) => ({ ...i, code: error.code }));
  // Template and duplicate errors: the message starts with "file: path: "; keep what follows.
  const message =
    error.path !== undefined
      ? error.message.split(`${error.path}: `).slice(1).join(`${error.path}: `) || error.message
      : error.message;
  return [{ path: error.path ?? '', message, code: error.code }];
}

const ExpandSchema = z.object({
  template: z.string().max(10_000),
  slots: z.record(z.string(), z.array(z.string())).default({}),
  limit: z.number().int().positive().max(100_000).default(1000),
});
const TrySchema = z.object({
  model: z.string().min(1),
  prompt: z.string().min(1).max(100_000),
  /** The unsaved router.json; absent = the one serving. */
  config: z.unknown().optional(),
});
const SaveSchema = z.object({ config: z.unknown() });
const LoginSchema = z.object({ key: z.string().max(1_000) });

export interface UiOptions {
  runtime: ProxyRuntime;
  decisions: DecisionLog;
  validate<T>(schema: z.ZodType<T>, body: unknown): T;
}

export function registerUi(app: FastifyInstance, options: UiOptions): void {
  const { runtime, decisions, validate } = options;
  const page = { html: asset('index.html'), js: asset('app.js'), css: asset('app.css') };
  let draft: { key: string; router: SemanticRouter } | undefined;
  let saving: Promise<unknown> = Promise.resolve();

  const find = (model: string): EditableRouter => {
    const found = editableRouters(runtime).find((r) => r.model === model);
    if (found === undefined) {
      throw new SemrouteError(
        ErrorCode.MODEL_NOT_FOUND,
        `"${model}" is not a semantic router of this proxy`,
        {
          path: 'model',
          details: { status: 404 },
        },
      );
    }
    return found;
  };

  const send = (reply: FastifyReply, type: string, body: string) =>
    reply
      .header('content-type', type)
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .send(body);

  // Form posts from the login page.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get('/ui', async (_request, reply) => send(reply, 'text/html; charset=utf-8', page.html));
  app.get('/ui/app.js', async (_request, reply) => send(reply, 'text/javascript; charset=utf-8', page.js));
  app.get('/ui/app.css', async (_request, reply) => send(reply, 'text/css; charset=utf-8', page.css));

  app.post('/ui/login', async (request, reply) => {
    const master = runtime.serving.config.general.master_key;
    const form = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ?? false;
    const { key } = validate(LoginSchema.partial(), request.body ?? {});
    if (master === undefined || (key !== undefined && sameSecret(key, master))) {
      if (master !== undefined) {
        reply.header(
          'set-cookie',
          `${COOKIE}=${sessionToken(master)}; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=43200`,
        );
      }
      return form ? reply.code(303).header('location', '/ui').send() : reply.code(204).send();
    }
    if (form) return sendLogin(reply, 'That key is not the master key.');
    reply.code(401);
    return { error: { message: 'Invalid key', type: 'invalid_request_error', code: 'invalid_api_key' } };
  });

  app.post('/ui/logout', async (_request, reply) =>
    reply
      .header('set-cookie', `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=0`)
      .code(303)
      .header('location', '/ui')
      .send(),
  );

  app.get('/ui/api/state', async () => {
    const routers = await Promise.all(
      editableRouters(runtime).map(async (r) => {
        const router = runtime.serving.router.semanticRouter(r.model);
        let config: unknown;
        let readError: string | undefined;
        if (r.file !== undefined) {
          try {
            config = JSON.parse(await readFile(r.file, 'utf8'));
          } catch (error) {
            readError = (error as Error).message;
          }
        }
        return {
          model: r.model,
          kind: r.kind,
          file: r.file === undefined ? null : path.basename(r.file),
          editable: r.file !== undefined && readError === undefined,
          default_model: r.defaultModel ?? router?.routerConfig.default_route ?? null,
          // The file as written (unknown keys kept), or the compiled config when inline.
          config: config ?? router?.routerConfig ?? null,
          read_error: readError ?? null,
        };
      }),
    );
    const models = runtime.serving.router
      .listModels()
      .filter((m) => m.kind === 'group')
      .map((m) => m.id);
    return {
      routers,
      models,
      builtin_slots: Object.keys(BUILTIN_SLOTS),
      log_prompts: runtime.serving.config.general.log_prompts,
      loaded_at: new Date(runtime.serving.loadedAt).toISOString(),
    };
  });

  app.post('/ui/api/expand', async (request) => {
    const body = validate(ExpandSchema, request.body);
    try {
      const variants = expandUtterance(body.template, {
        route: '(preview)',
        path: 'utterance',
        slots: { ...BUILTIN_SLOTS, ...body.slots },
        limit: body.limit,
      });
      return {
        template: variants.some((v) => v.template !== undefined),
        total: variants.length,
        variants: variants.slice(0, PREVIEW_VARIANTS).map((v) => v.text),
      };
    } catch (error) {
      if (!isSemrouteError(error)) throw error;
      return {
        error: { code: error.code, message: error.message.replace(/^router config: utterance: /, '') },
      };
    }
  });

  app.post('/ui/api/try', async (request, reply) => {
    const body = validate(TrySchema, request.body);
    const target = find(body.model);
    let semanticRouter: SemanticRouter | undefined;
    if (body.config !== undefined) {
      try {
        validateRouterConfig(body.config);
      } catch (error) {
        reply.code(400);
        return { errors: problems(error) };
      }
      const key = JSON.stringify(body.config);
      if (draft?.key !== key) {
        const compiled = await runtime.serving.router.compileDraft(target.model, body.config);
        const previous = draft;
        draft = { key, router: compiled };
        await previous?.router.close();
      }
      semanticRouter = draft.router;
    }
    const started = performance.now();
    const explained = await runtime.serving.router.explain(
      { model: target.model, messages: [{ role: 'user', content: body.prompt }] } as ChatBody & {
        model: string;
      },
      { semanticRouter },
    );
    return { draft: semanticRouter !== undefined, ...explanationBody(explained, started) };
  });

  app.put('/ui/api/routers/:model', async (request, reply) => {
    const { model } = request.params as { model: string };
    const { config } = validate(SaveSchema, request.body);
    const target = find(model);
    if (target.file === undefined) {
      reply.code(409);
      return {
        errors: [
          {
            path: '',
            message: `${model} is defined inline in config.yaml; edit it there`,
            code: ErrorCode.CONFIG_INVALID,
          },
        ],
      };
    }
    const file = target.file;
    try {
      validateRouterConfig(config, path.basename(file));
    } catch (error) {
      reply.code(400);
      return { errors: problems(error) };
    }
    // One save at a time: the backup must be the file the save replaced.
    const result = saving.then(async () => {
      const previous = await readFile(file, 'utf8').catch(() => undefined);
      const backup = `${file}.bak`;
      if (previous !== undefined) await writeFileAtomic(backup, previous);
      await writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`);
      if (await runtime.reload(ROUTE_PAGE_SAVE))
        return { saved: true, file: path.basename(file), backup: path.basename(backup) };
      // Valid JSON the gateway still refused (say, an encoder it cannot load): put the old file back.
      const error = runtime.lastReloadError;
      if (previous !== undefined) {
        await writeFileAtomic(file, previous);
        await runtime.reload('route page save undone');
      }
      return { errors: problems(error) };
    });
    saving = result.catch(() => undefined);
    const outcome = await result;
    if ('errors' in outcome) reply.code(400);
    return outcome;
  });

  app.get('/ui/api/decisions', async () => decisions.snapshot());
}
