/**
 * OpenTelemetry traces, built on the lifecycle events (one listener, every endpoint): a span for
 * the request, one for the routing decision (router, route or tier, score, difficulty) and one
 * per upstream attempt, with OpenTelemetry's `gen_ai.*` attributes (provider, request and
 * response model, tokens) and status. A request that arrives with a W3C `traceparent` continues
 * that trace, and every upstream call carries the attempt's own `traceparent`.
 *
 * Loaded only when asked for (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
 * or LiteLLM's `callbacks: ["otel"]`): otherwise not one OpenTelemetry module is imported and
 * nothing is sent. Spans go out over OTLP/HTTP (JSON) in batches. Prompts and answers are never
 * in spans unless `general_settings.log_prompts` is on.
 */
import type { Attributes, Context, Span, SpanContext, Tracer } from '@opentelemetry/api';
import type { RequestContext } from '../gateway/context.js';
import type { EventListeners } from '../gateway/events.js';

export interface TracingOptions {
  /** The environment the OTEL_* variables are read from. */
  env: NodeJS.ProcessEnv;
  /** `callbacks: ["otel"]` in the config. */
  otelCallback: boolean;
  /** Put the prompt in the request span (general_settings.log_prompts), read per request. */
  logPrompts: () => boolean;
  /** Spans batched at most this long before they are sent, ms. Default 1,000. */
  flushMs?: number | undefined;
}

export interface Tracing {
  /** Where spans go. */
  readonly endpoint: string;
  readonly listeners: EventListeners;
  /** The `traceparent` (and `tracestate`) for an upstream call of this request. */
  headers(ctx: RequestContext): Record<string, string> | undefined;
  /** Sends what is batched, then stops. */
  shutdown(): Promise<void>;
}

/** Where OTLP/HTTP traces go, per the OpenTelemetry variables; undefined when tracing is off. */
export function tracesEndpoint(env: NodeJS.ProcessEnv, otelCallback: boolean): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (base) return `${base.replace(/\/+$/, '')}/v1/traces`;
  // LiteLLM's callback without an endpoint: the collector's default OTLP/HTTP port.
  return otelCallback ? 'http://localhost:4318/v1/traces' : undefined;
}

/** `OTEL_EXPORTER_OTLP_HEADERS`: `key=value,key2=value2` (values percent-decoded). */
function otlpHeaders(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS ?? '';
  for (const pair of raw.split(',')) {
    const cut = pair.indexOf('=');
    if (cut <= 0) continue;
    try {
      out[pair.slice(0, cut).trim()] = decodeURIComponent(pair.slice(cut + 1).trim());
    } catch {
      // A malformed escape: the pair is skipped rather than sent wrong.
    }
  }
  return out;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A remote parent from a W3C `traceparent` (version 00; all-zero ids are invalid). */
function remoteParent(traceparent: string | undefined): SpanContext | undefined {
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent.trim().toLowerCase());
  if (match === null) return undefined;
  const [, traceId, spanId, flags] = match as unknown as [string, string, string, string];
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & 1,
    isRemote: true,
  };
}

/** What OpenTelemetry's gen_ai conventions call each endpoint's operation. */
const OPERATION: Readonly<Record<string, string>> = {
  chat: 'chat',
  responses: 'chat',
  messages: 'chat',
  completion: 'text_completion',
  embedding: 'embeddings',
  rerank: 'rerank',
};

const PROMPT_CHARS = 4_096;

interface Spans {
  request: Span;
  requestContext: Context;
  routing?: Span | undefined;
  /** The attempt in flight, or the one that answered (ended with the usage). */
  attempt?: Span | undefined;
}

/** Loads OpenTelemetry and starts exporting; undefined when tracing is not asked for. */
export async function startTracing(options: TracingOptions): Promise<Tracing | undefined> {
  const endpoint = tracesEndpoint(options.env, options.otelCallback);
  if (endpoint === undefined) return undefined;
  const [api, sdk, exporterModule, resources] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const exporter = new exporterModule.OTLPTraceExporter({ url: endpoint, headers: otlpHeaders(options.env) });
  const provider = new sdk.BasicTracerProvider({
    resource: resources.resourceFromAttributes({
      'service.name': options.env.OTEL_SERVICE_NAME?.trim() || 'semroute',
    }),
    spanProcessors: [
      new sdk.BatchSpanProcessor(exporter, {
        scheduledDelayMillis: options.flushMs ?? 1_000,
        maxQueueSize: 4_096,
      }),
    ],
  });
  const tracer: Tracer = provider.getTracer('semroute');
  const { SpanKind, SpanStatusCode, trace, ROOT_CONTEXT } = api;
  const spans = new WeakMap<RequestContext, Spans>();
  const epochMs = (performanceMs: number) => performance.timeOrigin + performanceMs;

  const fail = (span: Span, error: unknown) => {
    const e = error as { kind?: string; code?: string; status?: number; message?: string };
    span.setAttribute('error.type', e?.kind ?? e?.code ?? 'error');
    if (typeof e?.status === 'number') span.setAttribute('http.response.status_code', e.status);
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(e?.message ?? 'error').slice(0, 200) });
  };

  const listeners: EventListeners = {
    received: (ctx, request) => {
      const parent = remoteParent(ctx.traceparent);
      const parentContext = parent === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, parent);
      const attributes: Attributes = {
        'semroute.request_id': ctx.id,
        'semroute.endpoint': ctx.endpoint,
        'gen_ai.operation.name': OPERATION[ctx.endpoint] ?? ctx.endpoint,
        'gen_ai.request.model': request.model,
        'semroute.stream': request.stream,
      };
      if (ctx.caller.alias !== undefined) attributes['semroute.caller'] = ctx.caller.alias;
      if (options.logPrompts() && request.messages !== undefined)
        attributes['gen_ai.input.messages'] = JSON.stringify(request.messages).slice(0, PROMPT_CHARS);
      const request_ = tracer.startSpan(
        `semroute ${ctx.endpoint}`,
        { kind: SpanKind.SERVER, startTime: epochMs(ctx.startedAt), attributes },
        parentContext,
      );
      const requestContext = trace.setSpan(parentContext, request_);
      const routing = tracer.startSpan(
        'semroute.route',
        { startTime: epochMs(ctx.startedAt), attributes: { 'gen_ai.request.model': request.model } },
        requestContext,
      );
      spans.set(ctx, { request: request_, requestContext, routing });
    },
    route: (ctx, router, result) => {
      const s = spans.get(ctx)?.routing;
      if (s === undefined) return;
      s.setAttributes({
        'semroute.router': router,
        'semroute.route': result.name ?? '(default)',
        'semroute.route.score': result.score,
        'semroute.route.reason': result.reason,
      });
    },
    planned: (ctx, plan) => {
      const state = spans.get(ctx);
      const s = state?.routing;
      if (state === undefined || s === undefined) return;
      s.setAttribute('semroute.group', plan.group);
      const d = plan.decision;
      if (d !== undefined) {
        s.setAttribute('semroute.router', d.router);
        if (d.tier !== undefined) s.setAttribute('semroute.tier', d.tierLabel ?? d.tier);
        if (d.score !== undefined) s.setAttribute('semroute.tier.score', d.score);
        if (d.difficulty !== undefined) s.setAttribute('semroute.difficulty', d.difficulty);
      }
      s.end();
      state.routing = undefined;
    },
    attemptStart: (ctx, attempt) => {
      const state = spans.get(ctx);
      if (state === undefined) return;
      const d = attempt.deployment;
      const provider = d.target?.provider.name ?? 'unknown';
      const operation = OPERATION[ctx.endpoint] ?? ctx.endpoint;
      const attributes: Attributes = {
        'gen_ai.operation.name': operation,
        'gen_ai.system': provider,
        'gen_ai.provider.name': provider,
        'gen_ai.request.model': d.model,
        'semroute.group': attempt.group,
        'semroute.deployment_id': d.id,
        'semroute.attempt': attempt.n,
      };
      if (d.target !== undefined) {
        try {
          const url = new URL(d.target.baseUrl);
          attributes['server.address'] = url.hostname;
          if (url.port !== '') attributes['server.port'] = Number(url.port);
        } catch {
          // A base that is not a URL (it would not have been called): no address attribute.
        }
      }
      state.attempt?.end();
      state.attempt = tracer.startSpan(
        `${operation} ${d.model}`,
        { kind: SpanKind.CLIENT, attributes },
        state.requestContext,
      );
    },
    attemptEnd: (ctx, outcome) => {
      const state = spans.get(ctx);
      const s = state?.attempt;
      if (state === undefined || s === undefined || outcome.error === undefined) return;
      fail(s, outcome.error);
      s.end();
      state.attempt = undefined;
    },
    cacheHit: (ctx) => spans.get(ctx)?.request.setAttribute('semroute.cache_hit', true),
    succeeded: (ctx, success) => {
      const state = spans.get(ctx);
      if (state === undefined) return;
      const usage: Attributes = {
        'gen_ai.response.model': success.served.model,
        'gen_ai.usage.input_tokens': success.usage.prompt,
        'gen_ai.usage.output_tokens': success.usage.completion,
      };
      if (success.usage.estimated) usage['semroute.usage.estimated'] = true;
      state.request.setAttributes(usage);
      if (success.costUsd !== undefined) state.request.setAttribute('semroute.cost_usd', success.costUsd);
      if (state.attempt !== undefined) {
        state.attempt.setAttributes(usage);
        state.attempt.end();
        state.attempt = undefined;
      }
    },
    finished: (ctx, finished) => {
      const state = spans.get(ctx);
      if (state === undefined) return;
      spans.delete(ctx);
      state.routing?.end();
      if (state.attempt !== undefined) {
        if (finished.error !== undefined) fail(state.attempt, finished.error);
        state.attempt.end();
      }
      if (finished.error !== undefined) fail(state.request, finished.error);
      else state.request.setStatus({ code: SpanStatusCode.OK });
      state.request.end();
    },
  };

  return {
    endpoint,
    listeners,
    headers(ctx) {
      const state = spans.get(ctx);
      const span = state?.attempt ?? state?.request;
      if (span === undefined) return undefined;
      const sc = span.spanContext();
      const out: Record<string, string> = {
        traceparent: `00-${sc.traceId}-${sc.spanId}-${sc.traceFlags & 1 ? '01' : '00'}`,
      };
      if (ctx.tracestate !== undefined) out.tracestate = ctx.tracestate;
      return out;
    },
    async shutdown() {
      await provider.shutdown().catch(() => {});
    },
  };
}
