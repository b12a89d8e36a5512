/** The route page itself: its HTML, CSS and modules, and signing in and out. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ProxyRuntime } from '../runtime.js';
import { sameSecret } from '../secrets.js';
import { validate } from '../validate.js';
import { loadPage, sendAsset, sendLogin } from './assets.js';
import { COOKIE, sessionToken } from './session.js';

const LoginSchema = z.object({ key: z.string().max(1_000) });

export function registerPage(app: FastifyInstance, runtime: ProxyRuntime): void {
  const page = loadPage();

  // Form posts from the login page.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

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
}
