/**
 * A fake Google Vertex AI and its OAuth token endpoint for tests: real HTTP on 127.0.0.1, written
 * from Google's published documentation (OAuth 2.0 for server-to-server applications, Vertex's
 * OpenAI-compatible chat endpoint, Anthropic's models on Vertex) rather than from semroute's code:
 * - `POST /token`: the JWT-bearer grant (an RS256 JWT checked against the service account's
 *   public key: `iss` its email, `aud` this token URI, the cloud-platform scope, at most an hour
 *   between `iat` and `exp`, not expired) or the refresh-token grant; OAuth's error shape
 *   (`{error: "invalid_grant", error_description}`); tokens live until `revokeAll()`;
 * - every API call needs a live `Authorization: Bearer` token (else 401 UNAUTHENTICATED in
 *   Google's error shape) and the configured project and location in its path;
 * - `…/endpoints/openapi/chat/completions`: OpenAI's chat shape, models named `google/…`,
 *   streamed as `data:` chunks and `[DONE]`;
 * - `…/publishers/anthropic/models/{model}:rawPredict` and `:streamRawPredict`: the Messages body
 *   without `model` and with `anthropic_version: vertex-2023-10-16`, `max_tokens` required;
 *   answered as Messages, streamed as Anthropic's events;
 * - scripted statuses in Google's shape (429 RESOURCE_EXHAUSTED).
 */
import { createVerify, type KeyObject, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

export interface VertexStep {
  status?: number;
  message?: string;
}

export interface VertexRequestRecord {
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

export interface FakeVertexOptions {
  /** The service account whose JWTs are accepted. */
  serviceAccount?: { clientEmail: string; publicKey: KeyObject | string } | undefined;
  /** A user's credentials whose refresh token is accepted. */
  authorizedUser?: { clientId: string; clientSecret: string; refreshToken: string } | undefined;
  project: string;
  /** Locations it serves (a path naming another is 404). */
  locations: readonly string[];
  port?: number | undefined;
}

export interface FakeVertex {
  url: string;
  /** The token URI to put in a key file. */
  tokenUri: string;
  app: FastifyInstance;
  requests: VertexRequestRecord[];
  /** Tokens issued so far. */
  readonly issued: number;
  /** Every issued token stops working (as if expired or revoked). */
  revokeAll(): void;
  script(steps: VertexStep[]): void;
  close(): Promise<void>;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

const googleError = (reply: FastifyReply, code: number, message: string) =>
  reply.code(code).send({ error: { code, message, status: STATUS_NAMES[code] ?? 'UNKNOWN' } });

type Json = Record<string, unknown>;

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((p) => ((p as Json).type === 'text' ? String((p as Json).text ?? '') : '')).join(' ');
  return '';
}

export async function startFakeVertex(options: FakeVertexOptions): Promise<FakeVertex> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  const requests: VertexRequestRecord[] = [];
  const queue: VertexStep[] = [];
  let live = new Set<string>();
  let issued = 0;
  let url = '';

  const grant = (reply: FastifyReply, error: string, description: string) =>
    reply.code(400).send({ error, error_description: description });

  app.post('/token', async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, string>;
    if (form.grant_type === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const account = options.serviceAccount;
      const parts = String(form.assertion ?? '').split('.');
      if (account === undefined || parts.length !== 3) return grant(reply, 'invalid_grant', 'Invalid JWT.');
      const [header, claims, signature] = parts as [string, string, string];
      const verified = createVerify('RSA-SHA256')
        .update(`${header}.${claims}`)
        .verify(account.publicKey, Buffer.from(signature, 'base64url'));
      if (!verified) return grant(reply, 'invalid_grant', 'Invalid JWT Signature.');
      const h = JSON.parse(Buffer.from(header, 'base64url').toString()) as Json;
      const c = JSON.parse(Buffer.from(claims, 'base64url').toString()) as Json;
      const now = Math.floor(Date.now() / 1000);
      if (h.alg !== 'RS256') return grant(reply, 'invalid_grant', 'Invalid JWT: alg must be RS256.');
      if (c.iss !== account.clientEmail) return grant(reply, 'invalid_grant', 'Invalid JWT: iss.');
      if (c.aud !== `${url}/token`) return grant(reply, 'invalid_grant', 'Invalid JWT: aud.');
      if (
        !String(c.scope ?? '')
          .split(' ')
          .includes('https://www.googleapis.com/auth/cloud-platform')
      )
        return grant(reply, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
      const iat = Number(c.iat);
      const exp = Number(c.exp);
      if (!(exp > now && exp - iat <= 3600 && iat <= now + 60))
        return grant(
          reply,
          'invalid_grant',
          'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.',
        );
    } else if (form.grant_type === 'refresh_token') {
      const user = options.authorizedUser;
      if (
        user === undefined ||
        form.client_id !== user.clientId ||
        form.client_secret !== user.clientSecret ||
        form.refresh_token !== user.refreshToken
      )
        return grant(reply, 'invalid_grant', 'Bad Request');
    } else return grant(reply, 'unsupported_grant_type', 'Invalid grant_type.');
    issued += 1;
    const token = `ya29.fake-${issued}-${randomUUID().slice(0, 8)}`;
    live.add(token);
    return { access_token: token, expires_in: 3599, token_type: 'Bearer' };
  });

  /** Auth, project, location and scripted failures, for every API call. */
  const guard = async (request: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    requests.push({ url: request.url, headers: request.headers, body: (request.body ?? {}) as Json });
    const token = String(request.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!live.has(token)) {
      googleError(
        reply,
        401,
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      );
      return false;
    }
    const { project, location } = request.params as { project: string; location: string };
    if (project !== options.project) {
      googleError(reply, 403, `Permission denied on resource project ${project}.`);
      return false;
    }
    if (!options.locations.includes(location)) {
      googleError(reply, 404, `Location ${location} is not found or access is unauthorized.`);
      return false;
    }
    const step = queue.shift();
    if (step?.status !== undefined && step.status !== 200) {
      googleError(
        reply,
        step.status,
        step.message ??
          (step.status === 429 ? 'Resource exhausted. Please try again later.' : `scripted ${step.status}`),
      );
      return false;
    }
    return true;
  };

  const prefix = '/v1/projects/:project/locations/:location';
  app.post(`${prefix}/endpoints/openapi/chat/completions`, async (request, reply) => {
    if (!(await guard(request, reply))) return reply;
    const body = request.body as Json;
    const model = String(body.model ?? '');
    if (!model.startsWith('google/'))
      return googleError(reply, 400, `Invalid model ${model}: expected google/…`);
    const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
    if (messages.length === 0) return googleError(reply, 400, 'messages must not be empty');
    const text = `echo: ${textOf(messages.at(-1)?.content)}`;
    const id = `chatcmpl-${randomUUID().slice(0, 8)}`;
    const created = Math.floor(Date.now() / 1000);
    if (body.stream !== true)
      return {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
      };
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const piece of text.match(/\S+\s*/g) ?? [])
      reply.raw.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: { role: 'assistant', content: piece }, finish_reason: null }] })}\n\n`,
      );
    reply.raw.write(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`,
    );
    reply.raw.end('data: [DONE]\n\n');
    return reply;
  });

  app.post(`${prefix}/publishers/anthropic/models/:action`, async (request, reply) => {
    if (!(await guard(request, reply))) return reply;
    const { action } = request.params as { action: string };
    const colon = action.lastIndexOf(':');
    const model = action.slice(0, colon);
    const verb = action.slice(colon + 1);
    if (!['rawPredict', 'streamRawPredict'].includes(verb))
      return googleError(reply, 404, `No method ${verb}`);
    const body = request.body as Json;
    if (body.anthropic_version !== 'vertex-2023-10-16')
      return googleError(reply, 400, 'anthropic_version: vertex-2023-10-16 is required');
    if ('model' in body) return googleError(reply, 400, 'model: Extra inputs are not permitted');
    if (typeof body.max_tokens !== 'number') return googleError(reply, 400, 'max_tokens: Field required');
    const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
    if (messages.length === 0) return googleError(reply, 400, 'messages: at least one message is required');
    const text = `echo: ${textOf(messages.at(-1)?.content)}`;
    const id = `msg_vrtx_${randomUUID().slice(0, 8)}`;
    const usage = { input_tokens: 9, output_tokens: text.split(' ').length };
    if (verb === 'rawPredict')
      return {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [{ type: 'text', text }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage,
      };
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
    const send = (event: string, data: Json) =>
      reply.raw.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
    send('message_start', {
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        usage: { input_tokens: 9, output_tokens: 1 },
      },
    });
    send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    for (const piece of text.match(/\S+\s*/g) ?? [])
      send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } });
    send('content_block_stop', { index: 0 });
    send('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: usage.output_tokens },
    });
    send('message_stop', {});
    reply.raw.end();
    return reply;
  });

  url = await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  return {
    url,
    tokenUri: `${url}/token`,
    app,
    requests,
    get issued() {
      return issued;
    },
    revokeAll: () => {
      live = new Set();
    },
    script: (steps) => void queue.push(...steps),
    close: () => app.close(),
  };
}
