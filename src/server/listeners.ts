/**
 * The proxy's listeners on the request lifecycle (gateway/events.ts): the Prometheus metrics,
 * the route page's recent decisions, the upstream failure log and the per-request debug line all
 * hang on the same events, for every endpoint alike. Nothing here changes what a client gets.
 */
import { combineEvents, type EventListeners } from '../gateway/events.js';
import type { RecentDecisions } from './decisions.js';
import type { FailureLog } from './failure-log.js';
import type { ProxyMetrics } from './metrics.js';
import { statusOf } from './openai-errors.js';

export interface ListenerDeps {
  metrics: ProxyMetrics;
  decisions: RecentDecisions;
  failures: FailureLog;
  /** A model name as a metrics label: a configured name, else `unknown` (labels stay few). */
  label: (model: string) => string;
  /** Prompt text in the recent decisions (`log_prompts`), read at each decision. */
  keepPrompts: () => boolean;
  logger: {
    level: string;
    debug(obj: object, msg?: string): void;
    error(obj: object, msg?: string): void;
  };
}

export function proxyListeners(deps: ListenerDeps): EventListeners {
  const { metrics, decisions, failures, label, logger } = deps;
  return combineEvents(
    [
      metrics.events(),
      decisions.events(deps.keepPrompts),
      {
        attemptEnd: (ctx, attempt) => {
          if (attempt.error !== undefined)
            failures.failure(attempt.group, attempt.deployment, attempt.error, ctx.id);
        },
        cooldown: (event) => failures.cooldown(event),
        finished: (ctx, finished) => {
          const status = finished.error === undefined ? 200 : statusOf(finished.error);
          const model = finished.served?.model ?? label(finished.model);
          metrics.request(ctx.endpoint, model, status, finished.ms / 1000);
          // set_verbose / --log-level debug: one line per request; never the prompt.
          if (logger.level === 'debug' || logger.level === 'trace') {
            const served = finished.served;
            logger.debug(
              {
                reqId: ctx.id,
                endpoint: ctx.endpoint,
                caller: ctx.caller.alias,
                model,
                status,
                ms: Math.round(finished.ms),
                ...(served === undefined
                  ? {}
                  : {
                      deployment: served.deploymentId,
                      attempts: served.attempts,
                      fallbacks: served.fallbacksTried,
                      route: served.route?.name,
                      cached: served.cached,
                    }),
              },
              'request',
            );
          }
        },
      },
    ],
    (error, event) =>
      logger.error({ event, message: String((error as Error)?.message ?? error) }, 'a listener failed'),
  );
}
