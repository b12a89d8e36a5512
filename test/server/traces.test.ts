/**
 * OpenTelemetry traces from a running proxy to a real OTLP/HTTP receiver on 127.0.0.1 (a plain
 * HTTP server decoding what the exporter sends, OTLP's JSON encoding): the request, routing and
 * attempt spans with gen_ai.* attributes, a client's traceparent continued and passed upstream,
 * failures marked, prompts kept out unless log_prompts.
 */
import { createServer, type Server } from 'node:http';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { serve } from '../../src/server/serve.js';
import { tracesEndpoint } from '../../src/server/traces.js';
import { tempDir } from '../helpers/encoder.js';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status?: { code?: number; message?: string };
  attributes: Array<{ key: string; value: OtlpValue }>;
}

let receiver: Server;
let receiverUrl: string;
const bodies: string[] = [];
const contentTypes: string[] = [];
let upstream: FakeUpstream;
let dir: { dir: string; cleanup: () => Promise<void> };

function spans(): OtlpSpan[] {
  return bodies.flatMap((b) => {
    const doc = JSON.parse(b) as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
    };
    return doc.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
  });
}
const attr = (span: OtlpSpan, key: string) => {
  const v = span.attributes.find((a) => a.key === key)?.value;
  if (v === undefined) return undefined;
  return v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue));
};
async function until<T>(find: () => T | undefined): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('spans did not arrive in 10 s');
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.method === 'POST') {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        contentTypes.push(String(req.headers['content-type']));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  upstream = await startFakeUpstream();
  dir = await tempDir();
}, 30_000);

afterAll(async () => {
  await upstream?.close();
  await new Promise((r) => receiver?.close(r));
  await dir?.cleanup();
});

async function start(logPrompts: boolean) {
  const file = path.join(dir.dir, `config-${logPrompts}.yaml`);
  await writeFile(
    file,
    `
model_list:
  - model_name: traced
    litellm_params: { model: openai/traced-model, api_base: ${upstream.url}, api_key: sk-up }
    model_info: { id: traced-1, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002 }
  - model_name: smart-router
    litellm_params:
      model: auto_router/complexity_router
      complexity_router_config: { tiers: { SIMPLE: traced, MEDIUM: traced, COMPLEX: traced, REASONING: traced } }
      complexity_router_default_model: traced
router_settings:
  num_retries: 1
  retry_after: 0
general_settings:
  log_prompts: ${logPrompts}
`,
  );
  return serve({
    config: file,
    port: 0,
    signals: false,
    watch: false,
    logger: { level: 'silent' },
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, OTEL_SERVICE_NAME: 'semroute-test' },
  });
}

describe('OpenTelemetry traces over OTLP/HTTP', () => {
  it('continue the client’s trace: request, routing and attempt spans, traceparent passed upstream', async () => {
    const proxy = await start(false);
    try {
      const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'none', maxRetries: 0 });
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const parent = '00f067aa0ba902b7';
      upstream.script([{ status: 500, body: { error: { message: 'boom' } } }]);
      const before = upstream.requests.length;
      const attemptsBefore = upstream.attempts;
      await client.chat.completions.create(
        { model: 'traced', messages: [{ role: 'user', content: 'secret prompt text 7f3a' }] },
        { headers: { traceparent: `00-${traceId}-${parent}-01`, tracestate: 'vendor=1' } },
      );
      await proxy.close();
      const all = await until(() => {
        const found = spans().filter((s) => s.traceId === traceId);
        return found.length >= 4 ? found : undefined;
      });
      expect(contentTypes[0]).toMatch(/application\/json/);
      const request = all.find((s) => s.name === 'semroute chat')!;
      expect(request.parentSpanId).toBe(parent);
      expect(request.kind).toBe(2); // SERVER
      expect(attr(request, 'gen_ai.request.model')).toBe('traced');
      expect(attr(request, 'gen_ai.response.model')).toBe('traced');
      expect(attr(request, 'gen_ai.usage.output_tokens')).toBe(5);
      expect(Number(attr(request, 'gen_ai.usage.input_tokens'))).toBeGreaterThan(0);
      expect(request.status?.code).toBe(1); // OK
      const routing = all.find((s) => s.name === 'semroute.route')!;
      expect(routing.parentSpanId).toBe(request.spanId);
      expect(attr(routing, 'semroute.group')).toBe('traced');
      const attempts = all.filter((s) => s.name === 'chat traced-model');
      expect(attempts).toHaveLength(2);
      for (const a of attempts) {
        expect(a.parentSpanId).toBe(request.spanId);
        expect(a.kind).toBe(3); // CLIENT
        expect(attr(a, 'gen_ai.system')).toBe('openai');
        expect(attr(a, 'gen_ai.request.model')).toBe('traced-model');
        expect(attr(a, 'server.address')).toBe('127.0.0.1');
      }
      const [failed, answered] = [...attempts].sort(
        (x, y) => Number(attr(x, 'semroute.attempt')) - Number(attr(y, 'semroute.attempt')),
      );
      expect(failed!.status?.code).toBe(2); // ERROR
      expect(attr(failed!, 'http.response.status_code')).toBe(500);
      expect(attr(failed!, 'error.type')).toBeDefined();
      expect(answered!.status?.code ?? 0).not.toBe(2);
      expect(attr(answered!, 'gen_ai.usage.output_tokens')).toBe(5);
      // The call that answered carried its own attempt span as the parent, and the client's tracestate
      // (the fake records answered requests, not the scripted failure).
      const calls = upstream.requests.slice(before);
      expect(calls).toHaveLength(1);
      expect(upstream.attempts - attemptsBefore).toBe(2);
      expect(calls[0]!.headers.traceparent).toBe(`00-${traceId}-${answered!.spanId}-01`);
      expect(calls[0]!.headers.tracestate).toBe('vendor=1');
      // The prompt is not in any span.
      expect(bodies.join('')).not.toContain('secret prompt text 7f3a');
      expect(bodies.join('')).toContain('semroute-test');
    } finally {
      await proxy.close();
    }
  });

  it('a request without traceparent starts its own trace; log_prompts puts the prompt in', async () => {
    const proxy = await start(true);
    try {
      const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'none', maxRetries: 0 });
      await client.chat.completions.create({
        model: 'traced',
        messages: [{ role: 'user', content: 'visible prompt 91c2' }],
      });
      await proxy.close();
      const request = await until(() =>
        spans().find((s) => s.name === 'semroute chat' && JSON.stringify(s).includes('visible prompt 91c2')),
      );
      expect(request.parentSpanId ?? '').toBe('');
      expect(String(attr(request, 'gen_ai.input.messages'))).toContain('visible prompt 91c2');
    } finally {
      await proxy.close();
    }
  });

  it('the routing span carries a complexity router’s decision: router, tier, score', async () => {
    const proxy = await start(false);
    try {
      const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'none', maxRetries: 0 });
      const { response } = await client.chat.completions
        .create({ model: 'smart-router', messages: [{ role: 'user', content: 'What is 2+2?' }] })
        .withResponse();
      await proxy.close();
      const routing = await until(() =>
        spans().find(
          (s) => s.name === 'semroute.route' && attr(s, 'gen_ai.request.model') === 'smart-router',
        ),
      );
      expect(attr(routing, 'semroute.router')).toBe('smart-router');
      expect(attr(routing, 'semroute.tier')).toBe(response.headers.get('x-semroute-tier'));
      expect(typeof attr(routing, 'semroute.tier.score')).toBe('number');
      expect(attr(routing, 'semroute.group')).toBe('traced');
    } finally {
      await proxy.close();
    }
  });

  it('is off unless an OTLP endpoint or callbacks: ["otel"] asks for it', () => {
    expect(tracesEndpoint({}, false)).toBeUndefined();
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }, false)).toBe(
      'http://c:4318/v1/traces',
    );
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/x' }, false)).toBe('http://t/x');
    expect(tracesEndpoint({}, true)).toBe('http://localhost:4318/v1/traces');
  });
});
