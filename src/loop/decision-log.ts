/**
 * The decision log: one JSON line per routed request (a semantic route, a complexity tier, or a
 * prompt-aware `auto` choice) — what was decided, how close it was, what served it, what it cost
 * — for replay, drift, calibration and audits. A lifecycle listener (gateway/events.ts), so it
 * sees every endpoint alike; usable from the proxy (`general_settings.decision_log`) and from a
 * library (`decisionLog({ path })` as `GatewayIO.events`).
 *
 * It never slows a request: lines go to a bounded in-memory queue and are written in batches by
 * one writer; when the queue is full a line is dropped and counted (`dropped`, `/metrics`). Each
 * batch is whole lines in one write, so a crash leaves no torn line. The file rotates by size:
 * `decisions.jsonl` → `decisions.jsonl.1` (one old file kept). Prompts are kept only with
 * `keep_prompts`; otherwise a hash stands in, enough to join shadow grades and count repeats.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, openSync, renameSync, statSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import type { RequestContext } from '../gateway/context.js';
import type { EventListeners, PlannedRequest, TokenUsage } from '../gateway/events.js';
import { askOf } from '../difficulty/features.js';
import type { RouteResult } from '../semantic/semantic-router.js';

export interface DecisionLogOptions {
  path: string;
  /** Rotate past this many bytes. Default 100 MiB. */
  maxBytes?: number | undefined;
  /** Keep the prompt text (else its hash). Default false: prompts are the users' data. */
  keepPrompts?: boolean | undefined;
  /** Lines waiting at most; past this a line is dropped and counted. Default 10,000. */
  queueLimit?: number | undefined;
  /** How often the writer flushes, ms. Default 200. */
  flushMs?: number | undefined;
  /** The HTTP status of an error (the proxy's openai-errors). Default: 200 on success, 500 else. */
  statusOf?: ((error: unknown) => number) | undefined;
  now?: (() => number) | undefined;
  onError?: ((error: Error) => void) | undefined;
}

/** One line of the log (`type: "decision"`); shadow grades are `type: "shadow"` lines. */
export interface DecisionLine {
  type: 'decision';
  time: string;
  id: string;
  caller: string | null;
  endpoint: string;
  /** The model asked for. */
  model: string;
  kind: 'semantic' | 'complexity' | 'auto';
  router: string;
  route: string | null;
  tier: string | null;
  score: number | null;
  /** Score of the chosen route minus the runner-up's (semantic). */
  margin: number | null;
  threshold: number | null;
  reason: string | null;
  /** The prompt's language (ISO 639-3) as the semantic router saw it; null without one. */
  language: string | null;
  difficulty: number | null;
  candidates: Array<{ name: string; score?: number; quality?: number }>;
  group: string | null;
  deployment: string | null;
  fallbacks: string[];
  status: number;
  latency_ms: number;
  tokens: TokenUsage | null;
  cost_usd: number | null;
  saved_usd: number | null;
  prompt?: string | undefined;
  prompt_sha256: string;
  /** The conversation, when prompts are kept (replay re-decides on it). */
  messages?: unknown[] | undefined;
}

interface Pending {
  planned: PlannedRequest | undefined;
  route: { router: string; result: RouteResult } | undefined;
  usage: TokenUsage | undefined;
  costUsd: number | undefined;
  savedUsd: number | undefined;
  messages: unknown[] | undefined;
  /** The ask (the last user text), for its hash and, with keep_prompts, the line. */
  ask: string;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export class DecisionLog {
  private queue: string[] = [];
  private bytesQueued = 0;
  private fd: number | undefined;
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new WeakMap<RequestContext, Pending>();
  readonly counts = { written: 0, dropped: 0, rotated: 0, errors: 0 };
  private readonly maxBytes: number;
  private readonly queueLimit: number;

  constructor(private readonly options: DecisionLogOptions) {
    this.maxBytes = options.maxBytes ?? 100 * 1024 * 1024;
    this.queueLimit = options.queueLimit ?? 10_000;
    mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true });
    this.open();
    this.timer = setInterval(() => this.flush(), options.flushMs ?? 200);
    this.timer.unref();
  }

  private open(): void {
    this.fd = openSync(this.options.path, 'a', 0o600);
    try {
      this.size = statSync(this.options.path).size;
    } catch {
      this.size = 0;
    }
  }

  /** Adds a line (any JSON object with a `type`); false when the queue was full and it was dropped. */
  append(line: object): boolean {
    if (this.queue.length >= this.queueLimit) {
      this.counts.dropped++;
      return false;
    }
    const text = `${JSON.stringify(line)}\n`;
    this.queue.push(text);
    this.bytesQueued += text.length;
    return true;
  }

  /** Writes what is queued: whole lines, one write, rotating first when the file is full. */
  flush(): void {
    if (this.queue.length === 0 || this.fd === undefined) return;
    const batch = this.queue.join('');
    const lines = this.queue.length;
    this.queue = [];
    this.bytesQueued = 0;
    try {
      const bytes = Buffer.byteLength(batch);
      if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
      writeSync(this.fd, batch);
      this.size += bytes;
      this.counts.written += lines;
    } catch (error) {
      this.counts.errors++;
      this.counts.dropped += lines;
      this.options.onError?.(error as Error);
    }
  }

  private rotate(): void {
    closeSync(this.fd!);
    renameSync(this.options.path, `${this.options.path}.1`);
    this.counts.rotated++;
    this.open();
  }

  close(): void {
    this.flush();
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** The lifecycle listeners that feed it. */
  listeners(): EventListeners {
    const state = (ctx: RequestContext): Pending => {
      let p = this.pending.get(ctx);
      if (p === undefined) {
        p = {
          planned: undefined,
          route: undefined,
          usage: undefined,
          costUsd: undefined,
          savedUsd: undefined,
          messages: undefined,
          ask: '',
        };
        this.pending.set(ctx, p);
      }
      return p;
    };
    return {
      received: (ctx, request) => {
        if (request.messages === undefined) return;
        const p = state(ctx);
        p.ask = askOf(request.messages).text;
        if (this.options.keepPrompts) p.messages = [...request.messages];
      },
      planned: (ctx, plan) => {
        state(ctx).planned = plan;
      },
      route: (ctx, router, result) => {
        state(ctx).route = { router, result };
      },
      succeeded: (ctx, s) => {
        const p = state(ctx);
        p.usage = s.usage;
        p.costUsd = s.costUsd;
        p.savedUsd = s.savedUsd;
      },
      finished: (ctx, f) => {
        const p = this.pending.get(ctx);
        this.pending.delete(ctx);
        if (p === undefined) return;
        const line = this.line(ctx, p, f);
        if (line !== undefined) this.append(line);
      },
    };
  }

  private line(
    ctx: RequestContext,
    p: Pending,
    f: {
      model: string;
      error: unknown;
      served: import('../gateway/types.js').Served | undefined;
      ms: number;
    },
  ): DecisionLine | undefined {
    const decision = p.planned?.decision;
    const route = p.route?.result;
    // Only routed requests: a plain group by name is no decision.
    if (decision === undefined && route === undefined) return undefined;
    const kind: DecisionLine['kind'] =
      decision?.kind === 'complexity' ? 'complexity' : decision?.kind === 'auto' ? 'auto' : 'semantic';
    const second = route?.candidates.find((c) => c.route !== route.name);
    const text = route?.query ?? '';
    const status = f.error === undefined ? 200 : (this.options.statusOf?.(f.error) ?? 500);
    const candidates =
      decision !== undefined
        ? decision.candidates.map((name) => ({
            name,
            ...(decision.quality?.[name] === undefined ? {} : { quality: decision.quality[name] }),
          }))
        : (route?.candidates ?? []).map((c) => ({ name: c.route, score: c.score }));
    const prompt = text !== '' ? text : p.ask;
    return {
      type: 'decision',
      time: new Date(this.options.now?.() ?? Date.now()).toISOString(),
      id: ctx.id,
      caller: ctx.caller.alias ?? null,
      endpoint: ctx.endpoint,
      model: f.model,
      kind,
      router: decision?.router ?? p.route?.router ?? f.model,
      route: route?.name ?? null,
      tier: decision?.tier ?? null,
      score: decision?.score ?? route?.score ?? null,
      margin:
        route === undefined || route.name === null
          ? null
          : second === undefined
            ? route.score
            : route.score - second.score,
      threshold: route?.threshold ?? decision?.threshold ?? null,
      reason: route?.reason ?? decision?.cause ?? null,
      language: route?.language ?? null,
      difficulty: decision?.difficulty ?? null,
      candidates,
      group: f.served?.model ?? p.planned?.group ?? null,
      deployment: f.served?.deploymentId ?? null,
      fallbacks: f.served?.fallbacksTried ?? [],
      status,
      latency_ms: Math.round(f.ms * 10) / 10,
      tokens: p.usage ?? null,
      cost_usd: p.costUsd ?? null,
      saved_usd: p.savedUsd ?? null,
      ...(this.options.keepPrompts && prompt !== '' ? { prompt } : {}),
      prompt_sha256: sha256(prompt),
      ...(this.options.keepPrompts && p.messages !== undefined ? { messages: p.messages } : {}),
    };
  }
}
