/**
 * The state stores, by kind: `memory` (one instance) and `redis` (shared, with local failover
 * while Redis is away). A config with `redis_*` settings gets Redis. Adding a store is a file
 * and a line here; `test/gateway/state/create.test.ts` runs the conformance suite on every entry.
 */
import type { GatewayConfig } from '../../config/gateway-schema.js';
import { type FailoverLogger, FailoverStateStore } from './failover.js';
import { MemoryStateStore } from './memory.js';
import { RedisStateStore } from './redis.js';
import type { Clock, StateStore } from './state-store.js';

export type StoreFactory = (config: GatewayConfig, logger: FailoverLogger, clock: Clock) => StateStore;

export const STATE_STORES: Readonly<Record<string, StoreFactory>> = Object.freeze({
  memory: (_config, _logger, clock) => new MemoryStateStore(clock),
  redis: (config, logger, clock) => {
    const shared = new RedisStateStore({
      url: config.redis_url,
      host: config.redis_host,
      port: config.redis_port,
      password: config.redis_password,
      prefix: config.redis_key_prefix,
      clock,
      // Connection errors surface through the failover store's one log line, not per reconnect attempt.
      onError: () => {},
    });
    return new FailoverStateStore(shared, new MemoryStateStore(clock), logger, clock);
  },
});

/** The kind of store a config asks for. */
export function storeKind(config: GatewayConfig): string {
  return config.redis_url !== undefined || config.redis_host !== undefined ? 'redis' : 'memory';
}

export function createStateStore(
  config: GatewayConfig,
  logger: FailoverLogger,
  clock: Clock = Date.now,
): StateStore {
  return STATE_STORES[storeKind(config)]!(config, logger, clock);
}

/** The settings that pick the store: changing them needs a restart, not a reload. */
export function storeSettings(config: GatewayConfig): string {
  return JSON.stringify([config.redis_url, config.redis_host, config.redis_port, config.redis_key_prefix]);
}
