import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../../src/config/gateway-schema.js';
import { createStateStore } from '../../../src/gateway/state/create.js';
import { FailoverStateStore } from '../../../src/gateway/state/failover.js';
import { MemoryStateStore } from '../../../src/gateway/state/memory.js';
import { RedisStateStore } from '../../../src/gateway/state/redis.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { runStateStoreConformance } from './state-store.case.js';

let redis: TestRedis;
let counter = 0;
const opened: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await redis.close();
});

/** A store on its own key prefix with a clock the test moves; Redis TTLs stay real. */
async function redisStore(prefix = `t${++counter}:`, conversationQuota?: number) {
  let offset = 0;
  const clock = () => Date.now() + offset;
  const store = new RedisStateStore({ url: redis.url, prefix, clock, conversationQuota });
  opened.push(store);
  await store.connected();
  const advance = async (ms: number) => {
    offset += ms;
  };
  return { store, clock, advance };
}

function recordingLogger() {
  const lines: Array<{ level: string; msg: string | undefined }> = [];
  return {
    lines,
    warn: (_o: object, msg?: string) => void lines.push({ level: 'warn', msg }),
    info: (_o: object, msg?: string) => void lines.push({ level: 'info', msg }),
  };
}

runStateStoreConformance('redis behind failover', async () => {
  const { store, clock, advance } = await redisStore(undefined, 5);
  const local = new MemoryStateStore(clock, 1000, 100_000, 5);
  const failover = new FailoverStateStore(store, local, recordingLogger(), clock);
  return { store: failover, advance, quota: 5 };
});

describe('RedisStateStore across connections', () => {
  it('shares cooldowns, usage, stickiness and cache between two instances on one prefix', async () => {
    const prefix = `shared${++counter}:`;
    const [a, b] = await Promise.all([redisStore(prefix), redisStore(prefix)]);
    const until = Date.now() + 30_000;
    await a.store.coolDown('d1', until);
    expect((await b.store.cooldowns(['d1', 'd2'])).get('d1')).toBe(until);
    // A later deadline from either side wins; an earlier one never shortens it (LiteLLM #40130).
    expect(await b.store.coolDown('d1', until - 10_000)).toBe(until);
    expect(await b.store.coolDown('d1', until + 5_000)).toBe(until + 5_000);
    expect((await a.store.cooldowns(['d1'])).get('d1')).toBe(until + 5_000);

    await a.store.setSticky('session', 'coding', 300_000);
    expect(await b.store.getSticky('session')).toBe('coding');
    await b.store.setCached('k', '{"id":"x"}', 60_000);
    expect(await a.store.getCached('k')).toBe('{"id":"x"}');
    await a.store.addInFlight('d1', 2);
    expect((await b.store.inFlight(['d1'])).get('d1')).toBe(2);
  });

  it('holds an rpm limit across instances under concurrency', async () => {
    const prefix = `rpm${++counter}:`;
    const [a, b] = await Promise.all([redisStore(prefix), redisStore(prefix)]);
    const attempts = Array.from({ length: 40 }, (_, i) =>
      (i % 2 === 0 ? a : b).store.reserve('d', 1, { rpm: 12 }),
    );
    const granted = (await Promise.all(attempts)).filter(Boolean).length;
    expect(granted).toBe(12);
    expect((await a.store.usage(['d'])).get('d')?.requests).toBe(12);
  });

  it('keeps deployments of different prefixes apart, and every key under its prefix', async () => {
    const a = await redisStore('alpha:');
    const b = await redisStore('beta:');
    await a.store.coolDown('same-id', Date.now() + 60_000);
    expect((await b.store.cooldowns(['same-id'])).size).toBe(0);
    const keys = await redis.client.keys('alpha:*');
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.startsWith('alpha:'))).toBe(true);
  });
});

describe('FailoverStateStore when Redis goes away', () => {
  it('serves from local state while Redis is down, logs once each way, and shares again after', async () => {
    const prefix = `fo${++counter}:`;
    const shared = new RedisStateStore({ url: redis.url, prefix });
    await shared.connected();
    const logger = recordingLogger();
    // The failover's clock is the test's: its back-off passes when the test says, not after a sleep.
    let offset = 0;
    const clock = () => Date.now() + offset;
    const store = new FailoverStateStore(shared, new MemoryStateStore(clock), logger, clock, 50);
    opened.push(store);
    await store.coolDown('before', Date.now() + 60_000);
    expect(store.status()).toMatchObject({ kind: 'redis', connected: true, mode: 'shared' });

    await redis.stop();
    // Every operation still answers; none throws.
    for (let i = 0; i < 20; i++) {
      expect(await store.reserve('d', 1, { rpm: 100 })).toBe(true);
      await store.coolDown('during', Date.now() + 60_000);
      expect((await store.cooldowns(['during'])).has('during')).toBe(true);
    }
    expect((await store.usage(['d'])).get('d')?.requests).toBe(20);
    expect(store.status()).toMatchObject({ connected: false, mode: 'local' });
    expect(store.status().lastError).toBeTruthy();
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);

    await redis.start();
    await shared.connected(10_000);
    offset += 60;
    await store.coolDown('after', Date.now() + 60_000);
    expect(store.status()).toMatchObject({ connected: true, mode: 'shared' });
    expect(logger.lines.filter((l) => l.level === 'info')).toHaveLength(1);
    // The write after the return went to Redis, where another instance sees it.
    expect(await redis.client.get(`${prefix}c:after`)).not.toBeNull();
  });

  it('starts serving even when Redis is not there at all', async () => {
    const logger = recordingLogger();
    const config = parseGatewayConfig({
      model_list: [{ model_name: 'm', litellm_params: { model: 'gpt-4o' } }],
      redis_host: '127.0.0.1',
      redis_port: 1,
    });
    const store = createStateStore(config, logger);
    opened.push(store);
    expect(await store.reserve('d', 1, { rpm: 1 })).toBe(true);
    expect(await store.reserve('d', 1, { rpm: 1 })).toBe(false);
    expect(store.status()).toMatchObject({ kind: 'redis', connected: false, mode: 'local' });
    expect(logger.lines).toHaveLength(1);
  });
});

describe('Redis settings', () => {
  it('takes LiteLLM names, os.environ refs and numeric strings; rejects a bad port by path', () => {
    const config = parseGatewayConfig(
      {
        model_list: [{ model_name: 'm', litellm_params: { model: 'gpt-4o' } }],
        redis_host: 'os.environ/T_REDIS_HOST',
        redis_port: 'os.environ/T_REDIS_PORT',
        redis_password: 'os.environ/T_REDIS_PASSWORD',
      },
      { env: { T_REDIS_HOST: '127.0.0.1', T_REDIS_PORT: '6390', T_REDIS_PASSWORD: 'pw' } },
    );
    expect(config).toMatchObject({
      redis_host: '127.0.0.1',
      redis_port: 6390,
      redis_key_prefix: 'semroute:',
    });
    expect(() =>
      parseGatewayConfig({
        model_list: [{ model_name: 'm', litellm_params: { model: 'gpt-4o' } }],
        redis_port: 'not-a-port',
      }),
    ).toThrow(expect.objectContaining({ code: 'SEMROUTE_CONFIG_INVALID', path: 'redis_port' }));
  });
});
