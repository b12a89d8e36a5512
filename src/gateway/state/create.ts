/** The state store a config asks for: Redis (with local failover) when redis_* is set, memory otherwise. */
import type { GatewayConfig } from '../../config/gateway-schema.js';
import { type FailoverLogger, FailoverStateStore } from './failover.js';
import { MemoryStateStore } from './memory.js';
import { RedisStateStore } from './redis.js';
import type { Clock, StateStore } from './state-store.js';

export function usesRedis(config: GatewayConfig): boolean {
  return config.redis_url !== undefined || config.redis_host !== undefined;
}

export function createStateStore(
  config: GatewayConfig,
  logger: FailoverLogger,
  clock: Clock = Date.now,
): StateStore {
  if (!usesRedis(config)) return new MemoryStateStore(clock);
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
}

/** The settings that pick the store: changing them needs a restart, not a reload. */
export function storeSettings(config: GatewayConfig): string {
  return JSON.stringify([config.redis_url, config.redis_host, config.redis_port, config.redis_key_prefix]);
}
