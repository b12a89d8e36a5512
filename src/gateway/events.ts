/**
 * The lifecycle of a request, as events: the one surface where metrics, logs, the decision log,
 * spend and tracing attach. Every event but `cooldown` names the request it belongs to. A stream
 * succeeds (with its usage) and finishes when its last chunk has gone, not when it opens.
 *
 *   received → planned (route, tier) → [cacheHit] → attemptStart → attemptEnd → [retry |
 *   fallback → attemptStart …] → succeeded | failed → finished
 */
import type { UpstreamError, SemrouteError } from '../errors.js';
import type { RouteResult } from '../semantic/semantic-router.js';
import type { RequestContext } from './context.js';
import type { Deployment } from './deployment.js';
import type { CostDecision } from './plan/complexity.js';
import type { Served } from './types.js';

export interface CooldownEvent {
  deployment: Deployment;
  until: number;
  kind: UpstreamError['kind'];
}

export interface PlannedRequest {
  /** The model the client asked for. */
  model: string;
  /** The group tried first. */
  group: string;
  /** The semantic decision, for auto_router entries and `auto`. */
  route: RouteResult | undefined;
  /** `auto`'s pool. */
  pool: readonly string[] | undefined;
  /** The cost-quality decision: tier, difficulty, candidates (complexity routers, `auto`). */
  decision?: CostDecision | undefined;
}

export interface Attempt {
  group: string;
  deployment: Deployment;
  /** 1 for the request's first upstream call, 2 for the next (retry or fallback), … */
  n: number;
}

export interface AttemptOutcome extends Attempt {
  ms: number;
  /** Why it failed; undefined when it answered (a stream: when its first chunk came). */
  error: UpstreamError | undefined;
}

/** Tokens of an answer: the upstream's count, or semroute's estimate when it gave none. */
export interface TokenUsage {
  prompt: number;
  completion: number;
  total: number;
  /** True when the upstream reported nothing and these are estimates. */
  estimated: boolean;
}

export interface Success {
  served: Served;
  usage: TokenUsage;
  /** What it cost at the deployment's prices (USD); undefined when they are not known. */
  costUsd: number | undefined;
  /** A cost-quality decision's saving against its most expensive candidate (USD). */
  savedUsd: number | undefined;
  /** The answer's text (its first 64 KiB), for graders; undefined for embeddings. */
  answer: string | undefined;
}

export interface Finished {
  /** The model the client asked for. */
  model: string;
  /** The error the request ended with; undefined when it succeeded. */
  error: unknown;
  /** How it was served, when it reached a deployment or the cache. */
  served: Served | undefined;
  /** Since `context.startedAt`, ms. */
  ms: number;
}

/** Hooks for every step of a request; each one optional. Listeners must not throw. */
export interface GatewayEvents {
  /** `messages`: the conversation a routed endpoint decides on (chat, completions), as sent. */
  received(
    ctx: RequestContext,
    request: { model: string; stream: boolean; messages?: readonly unknown[] | undefined },
  ): void;
  planned(ctx: RequestContext, plan: PlannedRequest): void;
  /** A semantic decision; `result.query` is the text it routed on (for logs that keep prompts). */
  route(ctx: RequestContext, router: string, result: RouteResult): void;
  cacheHit(ctx: RequestContext, model: string): void;
  attemptStart(ctx: RequestContext, attempt: Attempt): void;
  attemptEnd(ctx: RequestContext, outcome: AttemptOutcome): void;
  retry(
    ctx: RequestContext,
    group: string,
    deployment: Deployment,
    error: UpstreamError,
    delayMs: number,
  ): void;
  fallback(ctx: RequestContext, from: string, to: string, error: SemrouteError): void;
  /** A deployment cooling: shared by every request, so no request context. */
  cooldown(event: CooldownEvent): void;
  succeeded(ctx: RequestContext, success: Success): void;
  failed(ctx: RequestContext, error: unknown): void;
  finished(ctx: RequestContext, finished: Finished): void;
}

export type EventListeners = Partial<GatewayEvents>;

const NAMES = [
  'received',
  'planned',
  'route',
  'cacheHit',
  'attemptStart',
  'attemptEnd',
  'retry',
  'fallback',
  'cooldown',
  'succeeded',
  'failed',
  'finished',
] as const satisfies ReadonlyArray<keyof GatewayEvents>;

/**
 * Several listeners as one: each event goes to every listener that has it, in order. A listener
 * that throws is reported to `onError` and does not stop the others, nor the request.
 */
export function combineEvents(
  listeners: ReadonlyArray<EventListeners | undefined>,
  onError: (error: unknown, event: string) => void = () => {},
): EventListeners {
  const present = listeners.filter((l): l is EventListeners => l !== undefined);
  const combined: Record<string, (...args: unknown[]) => void> = {};
  for (const name of NAMES) {
    const handlers = present
      .map((l) => l[name] as ((...args: unknown[]) => void) | undefined)
      .filter((h): h is (...args: unknown[]) => void => h !== undefined);
    if (handlers.length === 0) continue;
    combined[name] = (...args) => {
      for (const handler of handlers) {
        try {
          handler(...args);
        } catch (error) {
          onError(error, name);
        }
      }
    };
  }
  return combined as EventListeners;
}
