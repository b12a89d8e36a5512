/** What every route module of the proxy is given. */
import type { EventListeners } from '../gateway/events.js';
import type { RecentDecisions } from './decisions.js';
import type { Lifecycle } from './lifecycle.js';
import type { ProxyMetrics } from './metrics.js';
import type { ProxyRuntime } from './runtime.js';

export interface ServerContext {
  runtime: ProxyRuntime;
  metrics: ProxyMetrics;
  lifecycle: Lifecycle;
  decisions: RecentDecisions;
  /** The proxy's lifecycle listeners (the gateway's too): a request refused at the edge reports here. */
  events: EventListeners;
  /** The /metrics text when it is not this process's registry alone (cluster workers: the sum). */
  metricsText?: (() => Promise<string>) | undefined;
}

/** A model name from a failed request is a metrics label only when configured: no unbounded labels. */
export function modelLabel(context: ServerContext, model: string): string {
  return context.runtime.serving.gateway.listModels().some((m) => m.id === model) ? model : 'unknown';
}
