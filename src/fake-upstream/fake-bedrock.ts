/**
 * A fake Amazon Bedrock Runtime for tests, written from AWS's Converse / ConverseStream /
 * InvokeModel reference rather than from semroute's translation:
 * - auth: SigV4 (`Authorization: AWS4-HMAC-SHA256 Credential=…/{date}/{region}/bedrock/aws4_request,
 *   SignedHeaders=…, Signature=…` with `x-amz-date`), checked against the credentials it is
 *   given by recomputing the signature from the request as received — a wrong canonical request
 *   (path encoding, header set, body hash) fails here as at AWS; or a Bedrock API key (Bearer).
 *   Missing: 403 MissingAuthenticationTokenException; wrong: 403 SignatureDoesNotMatch (or
 *   UnrecognizedClientException for an unknown key id, ExpiredTokenException for a token listed
 *   as expired);
 * - Converse: `messages` required, roles alternating from `user`, content blocks of one kind
 *   each (text, image {format, source.bytes}, toolUse, toolResult, document), `toolUse` only with
 *   `toolConfig`, `inferenceConfig` with known keys only; unknown top-level fields refused;
 * - errors as Bedrock sends them: the status, `x-amzn-errortype`, `{"message": …}`;
 * - ConverseStream in AWS's event-stream framing: messageStart, contentBlockStart (tool use),
 *   contentBlockDelta, contentBlockStop, messageStop, metadata, each payload with the `p`
 *   padding field AWS adds; exceptions mid-stream as `:message-type: exception` messages;
 * - InvokeModel embeddings for Titan (`inputText`) and Cohere (`texts`) models.
 */
import { createHash } from 'node:crypto';
import { fakeRelevance } from './relevance.js';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { encodeEventMessage } from '../gateway/upstream/event-stream.js';
import { type AwsCredentials, signRequest } from '../gateway/upstream/sigv4.js';

type Json = Record<string, unknown>;

export interface BedrockStep {
  /** Answer with this status, an AWS error type and message. */
  status?: number;
  errorType?: string;
  message?: string;
  /** Answer with a tool call. */
  toolUse?: { name: string; input: Json };
  /** Streams: an exception message of this type after this many events. */
  streamException?: string;
  exceptionAfterEvents?: number;
}

export interface BedrockRequestRecord {
  path: string;
  model: string;
  headers: Record<string, string | string[] | undefined>;
  body: Json;
}

export interface FakeBedrockOptions {
  /** Credentials it accepts for SigV4; default: any well-formed signature is not enough — one set is required. */
  credentials?: readonly AwsCredentials[];
  /** Bedrock API keys it accepts as bearer tokens. */
  apiKeys?: readonly string[];
  /** Session tokens it treats as expired (403 ExpiredTokenException). */
  expiredTokens?: readonly string[];
  region?: string;
}

export interface FakeBedrock {
  /** The runtime endpoint (aws_bedrock_runtime_endpoint). */
  url: string;
  app: FastifyInstance;
  requests: BedrockRequestRecord[];
  script(steps: BedrockStep[]): void;
  close(): Promise<void>;
}

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function send(reply: FastifyReply, error: AwsError): FastifyReply {
  return reply
    .code(error.status)
    .header('x-amzn-errortype', `${error.type}:http://internal.amazon.com/coral/com.amazon.bedrock/`)
    .header('x-amzn-requestid', createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 32))
    .send({ message: error.message });
}

const validation = (message: string) => new AwsError(400, 'ValidationException', message);

function checkAuth(request: FastifyRequest, raw: string, options: FakeBedrockOptions, region: string): void {
  const auth = request.headers.authorization;
  if (typeof auth !== 'string')
    throw new AwsError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  if (auth.startsWith('Bearer ')) {
    if (!(options.apiKeys ?? []).includes(auth.slice(7)))
      throw new AwsError(
        403,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    return;
  }
  const parsed =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!parsed)
    throw new AwsError(
      403,
      'IncompleteSignatureException',
      `Authorization header is malformed: ${auth.slice(0, 40)}`,
    );
  const [, keyId, , signedRegion, service, signedHeaders] = parsed;
  const creds = (options.credentials ?? []).find((c) => c.accessKeyId === keyId);
  if (creds === undefined)
    throw new AwsError(
      403,
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  const token = request.headers['x-amz-security-token'];
  if (typeof token === 'string' && (options.expiredTokens ?? []).includes(token))
    throw new AwsError(403, 'ExpiredTokenException', 'The security token included in the request is expired');
  if (service !== 'bedrock' || signedRegion !== region)
    throw new AwsError(
      403,
      'SignatureDoesNotMatch',
      `Credential should be scoped to a valid region and service bedrock, not ${signedRegion}/${service}`,
    );
  const date = request.headers['x-amz-date'];
  if (typeof date !== 'string')
    throw new AwsError(403, 'IncompleteSignatureException', 'x-amz-date is missing');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders!.split(';')) {
    if (name === 'x-amz-date' || name === 'x-amz-security-token') continue;
    const value = request.headers[name];
    headers[name] = Array.isArray(value) ? value.join(',') : String(value ?? '');
  }
  const time = new Date(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  const [path, query = ''] = request.raw.url!.split('?') as [string, string?];
  const expected = signRequest(
    { method: request.method, path, query, headers, body: raw },
    { ...creds, sessionToken: typeof token === 'string' ? token : undefined },
    region,
    'bedrock',
    time,
  );
  if (expected.authorization !== auth)
    throw new AwsError(
      403,
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
}

const CONTENT_KINDS = [
  'text',
  'image',
  'document',
  'toolUse',
  'toolResult',
  'reasoningContent',
  'cachePoint',
];
const INFERENCE_KEYS = new Set(['maxTokens', 'temperature', 'topP', 'stopSequences']);
const CONVERSE_KEYS = new Set([
  'messages',
  'system',
  'inferenceConfig',
  'toolConfig',
  'guardrailConfig',
  'additionalModelRequestFields',
  'additionalModelResponseFieldPaths',
  'promptVariables',
  'requestMetadata',
  'performanceConfig',
]);

function checkConverse(body: Json): string {
  for (const key of Object.keys(body))
    if (!CONVERSE_KEYS.has(key))
      throw validation(`Malformed input request: extraneous key [${key}] is not permitted`);
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    throw validation('A conversation must start with a user message.');
  let last = '';
  let text = '';
  messages.forEach((m: Json, i) => {
    if (m.role !== 'user' && m.role !== 'assistant')
      throw validation(`messages.${i}.role: must be user or assistant`);
    if (i === 0 && m.role !== 'user')
      throw validation(
        'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
      );
    if (m.role === last) throw validation('A conversation must alternate between user and assistant roles.');
    last = String(m.role);
    if (!Array.isArray(m.content) || m.content.length === 0)
      throw validation(`messages.${i}.content: must not be empty`);
    for (const [j, block] of (m.content as Json[]).entries()) {
      const kinds = Object.keys(block).filter((k) => CONTENT_KINDS.includes(k));
      if (kinds.length !== 1 || Object.keys(block).length !== 1)
        throw validation(
          `messages.${i}.content.${j}: a content block holds exactly one of ${CONTENT_KINDS.join(', ')}`,
        );
      if ((block.toolUse !== undefined || block.toolResult !== undefined) && body.toolConfig === undefined)
        throw validation(
          'The toolConfig field must be defined when using toolUse and toolResult content blocks.',
        );
      const image = block.image as Json | undefined;
      if (
        image !== undefined &&
        (!['png', 'jpeg', 'gif', 'webp'].includes(String(image.format)) ||
          typeof (image.source as Json)?.bytes !== 'string')
      )
        throw validation(`messages.${i}.content.${j}.image: format png|jpeg|gif|webp and source.bytes`);
      if (m.role === 'user' && typeof block.text === 'string') text = block.text;
    }
  });
  const inference = (body.inferenceConfig ?? {}) as Json;
  for (const key of Object.keys(inference))
    if (!INFERENCE_KEYS.has(key))
      throw validation(`inferenceConfig: extraneous key [${key}] is not permitted`);
  return text;
}

/** A deterministic unit-ish vector of a text (equal texts, equal vectors). */
function vectorOf(text: string, dimensions: number): number[] {
  const out: number[] = [];
  let seed = createHash('sha256').update(text).digest();
  for (let i = 0; i < dimensions; i++) {
    if (i % 32 === 0 && i > 0) seed = createHash('sha256').update(seed).digest();
    out.push((seed[i % 32]! - 127.5) / 127.5);
  }
  return out;
}

const tokensOf = (text: string) => Math.max(1, Math.ceil(text.length / 4));

export function registerBedrock(app: FastifyInstance, options: FakeBedrockOptions = {}) {
  const region = options.region ?? 'us-east-1';
  const queue: BedrockStep[] = [];
  const requests: BedrockRequestRecord[] = [];
  // The raw body is what was signed: keep it as text, parse it here.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const handle = async (
    request: FastifyRequest,
    reply: FastifyReply,
    answer: (body: Json, step: BedrockStep | undefined, model: string) => Promise<unknown> | unknown,
  ) => {
    const raw = typeof request.body === 'string' ? request.body : '';
    const model = decodeURIComponent((request.params as { model: string }).model);
    try {
      checkAuth(request, raw, options, region);
      let body: Json;
      try {
        body = JSON.parse(raw) as Json;
      } catch {
        throw new AwsError(400, 'SerializationException', 'Unable to parse the request body as JSON');
      }
      requests.push({ path: request.raw.url!, model, headers: request.headers, body });
      const step = queue.shift();
      if (step?.status !== undefined)
        throw new AwsError(
          step.status,
          step.errorType ?? 'InternalServerException',
          step.message ?? 'scripted failure',
        );
      return await answer(body, step, model);
    } catch (error) {
      if (error instanceof AwsError) return send(reply, error);
      throw error;
    }
  };

  const converse = (body: Json, step: BedrockStep | undefined) => {
    const text = checkConverse(body);
    const tools = ((body.toolConfig as Json | undefined)?.tools ?? []) as Json[];
    const toolUse =
      step?.toolUse ??
      (tools.length > 0 && /use a tool/i.test(text)
        ? { name: String((tools[0]!.toolSpec as Json).name), input: {} }
        : undefined);
    const reply = `echo: ${text}`;
    const input = tokensOf(JSON.stringify(body.messages));
    return { text: reply, toolUse, input, output: tokensOf(reply) };
  };

  app.post('/model/:model/converse', (request, reply) =>
    handle(request, reply, (body, step) => {
      const a = converse(body, step);
      return {
        output: {
          message: {
            role: 'assistant',
            content: a.toolUse
              ? [{ toolUse: { toolUseId: 'tooluse_fake_1', name: a.toolUse.name, input: a.toolUse.input } }]
              : [{ text: a.text }],
          },
        },
        stopReason: a.toolUse ? 'tool_use' : 'end_turn',
        usage: { inputTokens: a.input, outputTokens: a.output, totalTokens: a.input + a.output },
        metrics: { latencyMs: 1 },
      };
    }),
  );

  app.post('/model/:model/converse-stream', (request, reply) =>
    handle(request, reply, (body, step) => {
      const a = converse(body, step);
      const events: Array<[string, Json]> = [['messageStart', { role: 'assistant' }]];
      if (a.toolUse) {
        events.push(
          [
            'contentBlockStart',
            {
              contentBlockIndex: 0,
              start: { toolUse: { toolUseId: 'tooluse_fake_1', name: a.toolUse.name } },
            },
          ],
          [
            'contentBlockDelta',
            { contentBlockIndex: 0, delta: { toolUse: { input: JSON.stringify(a.toolUse.input) } } },
          ],
        );
      } else {
        const words = a.text.split(/(?<= )/);
        for (const piece of words)
          events.push(['contentBlockDelta', { contentBlockIndex: 0, delta: { text: piece } }]);
      }
      events.push(
        ['contentBlockStop', { contentBlockIndex: 0 }],
        ['messageStop', { stopReason: a.toolUse ? 'tool_use' : 'end_turn' }],
        [
          'metadata',
          {
            usage: { inputTokens: a.input, outputTokens: a.output, totalTokens: a.input + a.output },
            metrics: { latencyMs: 1 },
          },
        ],
      );
      reply.raw.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
      events.forEach(([type, payload], i) => {
        if (step?.streamException !== undefined && i === (step.exceptionAfterEvents ?? 1)) {
          reply.raw.write(
            encodeEventMessage(
              {
                ':exception-type': step.streamException,
                ':content-type': 'application/json',
                ':message-type': 'exception',
              },
              JSON.stringify({ message: `${step.streamException} (scripted)` }),
            ),
          );
        }
        if (step?.streamException !== undefined && i > (step.exceptionAfterEvents ?? 1)) return;
        reply.raw.write(
          encodeEventMessage(
            { ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' },
            JSON.stringify({ ...payload, p: 'abcdefghijklmnopqrstuvwxyzABCDEF'.slice(0, 1 + (i % 30)) }),
          ),
        );
      });
      reply.raw.end();
      return reply;
    }),
  );

  app.post('/model/:model/invoke', (request, reply) =>
    handle(request, reply, (body, _step, model) => {
      if (model.startsWith('cohere.rerank') || model.startsWith('amazon.rerank')) {
        // Cohere Rerank on Bedrock (InvokeModel): query, documents (texts), top_n, api_version 2.
        if (typeof body.query !== 'string' || !Array.isArray(body.documents))
          throw validation('Malformed input request: query and documents are required');
        if (model.startsWith('cohere.') && body.api_version !== 2)
          throw validation('Malformed input request: api_version must be 2');
        const results = (body.documents as string[])
          .map((d, index) => ({ index, relevance_score: fakeRelevance(String(body.query), String(d)) }))
          .sort((a, b) => b.relevance_score - a.relevance_score);
        return {
          id: 'fake-rerank',
          results: typeof body.top_n === 'number' ? results.slice(0, body.top_n) : results,
        };
      }
      if (model.startsWith('cohere.')) {
        if (!Array.isArray(body.texts) || typeof body.input_type !== 'string')
          throw validation('Malformed input request: texts and input_type are required');
        return {
          id: 'fake-embed',
          response_type: 'embeddings_floats',
          texts: body.texts,
          embeddings: (body.texts as string[]).map((t) => vectorOf(t, 1024)),
        };
      }
      if (model.startsWith('amazon.titan-embed')) {
        if (typeof body.inputText !== 'string')
          throw validation('Malformed input request: inputText is required');
        const dimensions = typeof body.dimensions === 'number' ? body.dimensions : 1024;
        return {
          embedding: vectorOf(body.inputText, dimensions),
          inputTextTokenCount: tokensOf(body.inputText),
        };
      }
      throw validation(`The provided model identifier is invalid: ${model}`);
    }),
  );

  return { requests, script: (steps: BedrockStep[]) => void queue.push(...steps) };
}

export async function startFakeBedrock(options: FakeBedrockOptions = {}): Promise<FakeBedrock> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const { requests, script } = registerBedrock(app, options);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, app, requests, script, close: () => app.close() };
}
