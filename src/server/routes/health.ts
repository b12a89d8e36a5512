/**
 * Health (open to all): `/health/liveliness`, `/health/readiness` and `/health` (healthy and
 * unhealthy counts; with the master key, or with none configured, each deployment: cooldowns,
 * and why one cannot be called).
 */
import type { FastifyInstance } from 'fastify';
import { presentedKey } from '../auth.js';
import type { ServerContext } from '../context.js';
import { sameSecret } from '../secrets.js';

export function registerHealth(app: FastifyInstance, { runtime, lifecycle }: ServerContext): void {
  app.get('/health/liveliness', async () => ({ status: 'ok' }));
  app.get('/health/readiness', async (_request, reply) => {
    const ready = !lifecycle.draining;
    if (!ready) reply.code(503);
    return {
      status: ready ? 'ok' : 'draining',
      // This request included.
      in_flight: lifecycle.inFlight,
      // Which process answered: with --workers each has its own in_flight and state.
      pid: process.pid,
      models: runtime.serving.gateway.listModels().length,
      config_loaded_at: new Date(runtime.serving.loadedAt).toISOString(),
      state_store: runtime.store.status(),
    };
  });
  app.get('/health', async (request) => {
    const gateway = runtime.serving.gateway;
    const master = runtime.serving.config.general.master_key;
    const key = presentedKey(request);
    const operator = master === undefined || (key !== undefined && sameSecret(key, master));
    const groups = gateway.listModels().filter((m) => m.kind === 'group');
    const cooling = await runtime.store.cooldowns(
      groups.flatMap((g) => gateway.deployments(g.id).map((d) => d.id)),
    );
    const deployments = groups.flatMap((g) =>
      gateway.deployments(g.id).map((d) => ({
        model: g.id,
        id: d.id,
        healthy: !cooling.has(d.id) && d.target?.unavailable === undefined,
        cooling_until: cooling.has(d.id) ? new Date(cooling.get(d.id)!).toISOString() : null,
        ...(d.target?.unavailable === undefined ? {} : { unavailable: d.target.unavailable }),
      })),
    );
    const counts = {
      healthy_count: deployments.filter((d) => d.healthy).length,
      unhealthy_count: deployments.filter((d) => !d.healthy).length,
    };
    // Groups, deployment ids and cooldowns are the operator's: anyone else gets the counts (a
    // load balancer's question), never a map of what the proxy serves and what is failing.
    return operator ? { ...counts, deployments } : counts;
  });
}
