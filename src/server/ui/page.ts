/** The route page itself: its HTML, CSS and modules, and signing in and out. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ProxyRuntime } from '../runtime.js';
import { sameSecret } from '../secrets.js';
import { validate } from '../validate.js';
import { loadPage, sendAsset, sendLogin } from './assets.js';
import type { LoginThrottle, UiSessions } from './session.js';

const LoginSchema = z.object({ key: z.string().max(1_000) });

export function registerPage(
  app: FastifyInstance,
  runtime: ProxyRuntime,
  sessions: UiSessions,
  throttle: LoginThrottle,
): void {
  const page = loadPage();

  // Form posts from the login page.
  // Form posts from the login page, and nowhere else: a form is what a cross-site page can send
  // without a preflight, so no other route takes one.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (request, body, done) => {
      if (request.routeOptions.url !== '/ui/login') {
        const error = Object.assign(
          new Error(`${request.routeOptions.url ?? 'this path'} does not take form posts`),
          {
            statusCode: 415,
            code: 'unsupported_media_type',
          },
        );
        done(error, undefined);
        return;
      }
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  app.get('/favicon.ico', async (_request, reply) =>
    reply.code(204).header('cache-control', 'public, max-age=86400').send(),
  );
  app.get('/ui', async (_request, reply) => sendAsset(reply, 'text/html; charset=utf-8', page.html));
  app.get('/ui/app.css', async (_request, reply) => sendAsset(reply, 'text/css; charset=utf-8', page.css));
  app.get('/ui/js/:file', async (request, reply) => {
    const module = page.modules.get((request.params as { file: string }).file);
    if (module === undefined) return reply.callNotFound();
    return sendAsset(reply, 'text/javascript; charset=utf-8', module);
  });

  app.post('/ui/login', async (request, reply) => {
    const master = runtime.serving.config.general.master_key;
    const form = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ?? false;
    const { key } = validate(LoginSchema.partial(), request.body ?? {});
    // Guessing the master key is held to ten tries a minute per address.
    const wait = throttle.blockedFor(request.ip);
    if (wait > 0) {
      reply.code(429).header('retry-after', String(wait));
      return {
        error: {
          message: `Too many failed sign-ins: try again in ${wait} s`,
          type: 'rate_limit_error',
          code: 'rate_limited',
        },
      };
    }
    if (master === undefined || (key !== undefined && sameSecret(key, master))) {
      if (master !== undefined) reply.header('set-cookie', await sessions.open(request, master));
      return form ? reply.code(303).header('location', '/ui').send() : reply.code(204).send();
    }
    // A wrong key is a guess; a form sent without one is not.
    if (key !== undefined) throttle.failed(request.ip);
    if (form) return sendLogin(reply, 'That key is not the master key.', 401);
    reply.code(401);
    return { error: { message: 'Invalid key', type: 'invalid_request_error', code: 'invalid_api_key' } };
  });

  app.post('/ui/logout', async (request, reply) =>
    reply
      .header('set-cookie', await sessions.close(request))
      .code(303)
      .header('location', '/ui')
      .send(),
  );
}
