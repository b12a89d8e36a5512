/**
 * The route page's API: the router.json files the config names, template previews, tries of
 * unsaved edits, saves through the hot-reload path, and recent decisions. The page writes every
 * value with textContent, never as HTML.
 */
import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { validateRouterConfig } from '../../config/router-config.js';
import { BUILTIN_SLOTS } from '../../config/slots.js';
import { DEFAULT_BUDGET, expandUtterance } from '../../config/templates.js';
import { ErrorCode, isSemrouteError, SemrouteError } from '../../errors.js';
import { writeFileAtomic } from '../../internal/fs.js';
import { lintRouter } from '../../semantic/lint.js';
import { checkRouterConfig } from '../../semantic/validate.js';
import type { SemanticRouter } from '../../semantic/semantic-router.js';
import type { RecentDecisions } from '../decisions.js';
import { explanationBody } from '../explain.js';
import type { ProxyRuntime } from '../runtime.js';
import { validate } from '../validate.js';
import { drift } from '../../loop/drift.js';
import { readDecisionLog } from '../../loop/log-reader.js';

/** How much of the decision log the unrouted-traffic panel reads: the most recent 4 MiB. */
const DRIFT_BYTES = 4 * 1024 * 1024;

/** The reload reason of a save from the route page (other workers are told of these). */
export const ROUTE_PAGE_SAVE = 'route page save';
const PREVIEW_VARIANTS = 50;

interface EditableRouter {
  model: string;
  kind: 'auto_router' | 'auto';
  /** Absolute path of its router.json, or undefined when it is inline in config.yaml (read-only). */
  file: string | undefined;
  defaultModel: string | undefined;
}

function editableRouters(runtime: ProxyRuntime): EditableRouter[] {
  return runtime.serving.config.semantic.map((m) => ({
    model: m.model,
    kind: m.kind,
    file: m.file,
    defaultModel: m.defaultModel,
  }));
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
const LintSchema = z.object({
  model: z.string().min(1),
  /** The unsaved router.json; absent = the one serving. */
  config: z.unknown().optional(),
});

/** A router.json's version: what the page read, to tell a stale save (ETag / If-Match). */
function fileVersion(text: string): string {
  return `"${createHash('sha256').update(text).digest('hex').slice(0, 20)}"`;
}

export function registerUiApi(app: FastifyInstance, runtime: ProxyRuntime, decisions: RecentDecisions): void {
  let draft: { key: string; model: string; router: SemanticRouter } | undefined;
  let saving: Promise<unknown> = Promise.resolve();

  const find = (model: string): EditableRouter => {
    const found = editableRouters(runtime).find((r) => r.model === model);
    if (found === undefined) {
      throw new SemrouteError(
        ErrorCode.MODEL_NOT_FOUND,
        `"${model}" is not a semantic router of this proxy`,
        { path: 'model' },
      );
    }
    return found;
  };

  app.get('/ui/api/state', async () => {
    const routers = await Promise.all(
      editableRouters(runtime).map(async (r) => {
        const router = runtime.serving.gateway.semanticRouter(r.model);
        let config: unknown;
        let readError: string | undefined;
        let version: string | null = null;
        if (r.file !== undefined) {
          try {
            const text = await readFile(r.file, 'utf8');
            version = fileVersion(text);
            config = JSON.parse(text);
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
          // Sent back as If-Match when saving: a save over someone else's is refused (409).
          version,
        };
      }),
    );
    const models = runtime.serving.gateway
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
        // The preview is held to what a router may expand into: a request cannot freeze the proxy.
        budget: { ...DEFAULT_BUDGET },
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

  /**
   * The router a try or a check runs on: the one serving, or the unsaved draft compiled with the
   * model's encoder (kept while the draft is unchanged). Problems in the draft are a 400.
   */
  const routerFor = async (
    model: string,
    config: unknown,
  ): Promise<{ router: SemanticRouter | undefined; errors?: ReturnType<typeof problems> }> => {
    if (config === undefined) return { router: undefined };
    try {
      checkRouterConfig(validateRouterConfig(config));
    } catch (error) {
      return { router: undefined, errors: problems(error) };
    }
    const key = JSON.stringify(config);
    if (draft?.key !== key || draft.model !== model) {
      const compiled = await runtime.serving.gateway.compileDraft(model, config);
      const previous = draft;
      draft = { key, model, router: compiled };
      await previous?.router.close();
    }
    return { router: draft.router };
  };

  app.post('/ui/api/try', async (request, reply) => {
    const body = validate(TrySchema, request.body);
    const target = find(body.model);
    const { router: semanticRouter, errors } = await routerFor(target.model, body.config);
    if (errors !== undefined) {
      reply.code(400);
      return { errors };
    }
    const started = performance.now();
    const explained = await runtime.serving.gateway.explain(
      { model: target.model, messages: [{ role: 'user', content: body.prompt }] },
      { semanticRouter },
    );
    return { draft: semanticRouter !== undefined, ...explanationBody(explained, started) };
  });

  app.post('/ui/api/lint', async (request, reply) => {
    const body = validate(LintSchema, request.body);
    const target = find(body.model);
    const { router: draftRouter, errors } = await routerFor(target.model, body.config);
    if (errors !== undefined) {
      reply.code(400);
      return { errors };
    }
    const router = draftRouter ?? runtime.serving.gateway.semanticRouter(target.model);
    if (router === undefined)
      throw new SemrouteError(ErrorCode.MODEL_NOT_FOUND, `"${target.model}" has no router`);
    return { draft: draftRouter !== undefined, ...lintRouter(router) };
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
      checkRouterConfig(validateRouterConfig(config, path.basename(file)));
    } catch (error) {
      reply.code(400);
      return { errors: problems(error) };
    }
    const ifMatch = request.headers['if-match'];
    // One save at a time: the backup must be the file the save replaced.
    const result = saving.then(async () => {
      const previous = await readFile(file, 'utf8').catch(() => undefined);
      if (typeof ifMatch === 'string' && ifMatch !== '*' && ifMatch !== fileVersion(previous ?? '')) {
        return {
          stale: true as const,
          errors: [
            {
              path: '',
              message: `${path.basename(file)} changed since this page loaded it (another save, or an edit on disk): reload to see it, then save again`,
              code: 'stale_version',
            },
          ],
        };
      }
      const backup = `${file}.bak`;
      // The file keeps its mode, and so does its backup: a 0600 router.json holding an
      // encoder's api_key must not come back world-readable.
      const mode = await stat(file).then(
        (s) => s.mode & 0o777,
        () => undefined,
      );
      if (previous !== undefined) await writeFileAtomic(backup, previous, mode);
      await writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`, mode);
      const written = `${JSON.stringify(config, null, 2)}\n`;
      if (await runtime.reload(ROUTE_PAGE_SAVE))
        return {
          saved: true,
          file: path.basename(file),
          backup: path.basename(backup),
          version: fileVersion(written),
        };
      // Valid JSON the gateway still refused (say, an encoder it cannot load): put the old file back.
      const error = runtime.lastReloadError;
      if (previous !== undefined) {
        await writeFileAtomic(file, previous, mode);
        await runtime.reload('route page save undone');
      }
      return { errors: problems(error) };
    });
    saving = result.catch(() => undefined);
    const outcome = await result;
    if ('stale' in outcome) {
      reply.code(409);
      return { errors: outcome.errors };
    }
    if ('errors' in outcome) reply.code(400);
    return outcome;
  });

  app.get('/ui/api/decisions', async () => decisions.snapshot());

  // The unrouted-traffic panel: drift clusters from the end of the decision log (the last
  // DRIFT_BYTES of it), for one semantic router, with its own encoder.
  app.get('/ui/api/drift', async (request) => {
    const { model } = validate(z.object({ model: z.string().min(1) }), request.query);
    const settings = runtime.serving.config.general.decision_log;
    if (settings === undefined)
      return { enabled: false, why: 'general_settings.decision_log is not set', clusters: [] };
    if (!settings.keep_prompts)
      return {
        enabled: false,
        why: 'general_settings.decision_log.keep_prompts is off: no prompt text to cluster',
        clusters: [],
      };
    const router = runtime.serving.gateway.semanticRouter(model);
    if (router === undefined)
      throw new SemrouteError(ErrorCode.MODEL_NOT_FOUND, `"${model}" is not a semantic router`, {
        path: 'model',
      });
    const file = path.resolve(runtime.serving.config.baseDir, settings.path);
    const text = await tail(file, DRIFT_BYTES);
    const report = await drift(readDecisionLog(text), router.encoder, { router: model });
    return { enabled: true, ...report };
  });
}

/** At most the last `bytes` of a file, from its first whole line ('' when it is missing). */
async function tail(file: string, bytes: number): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, 'r');
    const { size } = await handle.stat();
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const text = buffer.toString('utf8');
    return start === 0 ? text : text.slice(text.indexOf('\n') + 1);
  } catch {
    return '';
  } finally {
    await handle?.close();
  }
}
