/**
 * The deploy files (Dockerfile, deploy/compose.yaml, deploy/k8s/) checked against the code, since
 * no container engine runs here: every path they COPY exists, the commands they run are ones our
 * CLI takes, probes hit our health routes on the port the proxy listens on, the config they
 * mount loads and names the services they define, the grace periods outlast our drain, and the
 * config serves — with Redis, and hosts swapped for loopback — as deployed.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadProxyConfig } from '../../src/config/proxy-config.js';
import { startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers/encoder.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/semroute.js');
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML of files we wrote, read field by field
type Json = Record<string, any>;

const dockerfile = readFileSync('Dockerfile', 'utf8');
/** Instructions, continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'))
  .map((l) => {
    const [op, ...rest] = l.split(/\s+/);
    return { op: op!.toUpperCase(), args: rest.join(' ') };
  });
const k8s = (file: string): Json[] =>
  parseAllDocuments(readFileSync(path.join('deploy/k8s', file), 'utf8')).map((d) => d.toJSON() as Json);
const compose = parse(readFileSync('deploy/compose.yaml', 'utf8')) as Json;
const kustomization = k8s('kustomization.yaml')[0]!;
const resources = (kustomization.resources as string[]).flatMap(k8s);
const byKind = (kind: string, name: string) =>
  resources.find((r) => r.kind === kind && r.metadata.name === name);
const semroute = byKind('Deployment', 'semroute')!;
const container = semroute.spec.template.spec.containers[0] as Json;

/** `--flag` options of a command's --help. */
async function helpFlags(command: string): Promise<string[]> {
  const { stdout } = await run(process.execPath, [BIN, command, '--help']);
  return [...stdout.matchAll(/^\s+(--[a-z-]+)/gm)].map((m) => m[1]!);
}
const flagsOf = (args: string[]) => args.filter((a) => a.startsWith('--'));
const argAfter = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe('Dockerfile', () => {
  it('builds in two stages, runs unprivileged, builds the model at image build', () => {
    const from = instructions.filter((i) => i.op === 'FROM');
    expect(from.length).toBeGreaterThanOrEqual(2);
    // Node 20.15 or newer (package.json engines): node:20 is the newest 20.x.
    expect(from.every((i) => /^node:20-/.test(i.args))).toBe(true);
    const last = instructions.lastIndexOf(from.at(-1)!);
    const runtime = instructions.slice(last);
    expect(runtime.find((i) => i.op === 'USER')?.args).toBe('node');
    expect(instructions.some((i) => i.op === 'RUN' && /npm ci/.test(i.args))).toBe(true);
    // npm ci runs `prepare`, which builds the model; the runtime stage copies it.
    expect(JSON.parse(readFileSync('package.json', 'utf8')).scripts.prepare).toContain('models build');
    expect(runtime.some((i) => i.op === 'COPY' && /\/app\/models /.test(i.args))).toBe(true);
  });

  it('copies only paths that exist', () => {
    for (const { args } of instructions.filter((i) => i.op === 'COPY' && !i.args.includes('--from'))) {
      const sources = args.split(/\s+/).slice(0, -1);
      for (const source of sources) expect(existsSync(source), source).toBe(true);
    }
  });

  it('serves on the port it exposes, checks /health/liveliness, with options semroute takes', async () => {
    const cmd = JSON.parse(instructions.find((i) => i.op === 'CMD')!.args) as string[];
    const entry = JSON.parse(instructions.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
    expect(entry).toEqual(['node', 'bin/semroute.js']);
    expect(cmd[0]).toBe('serve');
    const flags = await helpFlags('serve');
    for (const flag of flagsOf(cmd)) expect(flags, flag).toContain(flag);
    const port = argAfter(cmd, '--port');
    expect(instructions.find((i) => i.op === 'EXPOSE')?.args).toBe(port);
    expect(argAfter(cmd, '--host')).toBe('0.0.0.0');
    const health = instructions.find((i) => i.op === 'HEALTHCHECK')!.args;
    expect(health).toContain(`http://127.0.0.1:${port}/health/liveliness`);
    expect(readFileSync('.dockerignore', 'utf8')).toMatch(/^node_modules$/m);
  });
});

describe('deploy/compose.yaml', () => {
  it('runs several proxies on Redis and the fake upstream, with commands semroute takes', async () => {
    const services = compose.services as Json;
    const redis: Json = services.redis;
    const upstream: Json = services['fake-upstream'];
    const proxy: Json = services.semroute;
    expect(redis.image).toMatch(/^redis:/);
    expect(proxy.deploy.replicas).toBeGreaterThan(1);
    for (const [service, command] of [
      ['serve', proxy.command],
      ['fake-upstream', upstream.command],
    ] as const) {
      expect(command[0]).toBe(service);
      const flags = await helpFlags(service);
      for (const flag of flagsOf(command)) expect(flags, `${service} ${flag}`).toContain(flag);
    }
    const mount = (proxy.volumes as string[])[0]!.split(':');
    expect(existsSync(path.resolve('deploy', mount[0]!, 'config.yaml'))).toBe(true);
    expect(argAfter(proxy.command, '--config')).toBe(`${mount[1]}/config.yaml`);
    expect(proxy.healthcheck.test.join(' ')).toContain(
      `:${argAfter(proxy.command, '--port')}/health/readiness`,
    );
    expect(proxy.environment).toHaveProperty('SEMROUTE_MASTER_KEY');
  });
});

describe('deploy/k8s', () => {
  it('probes our health routes on the container port, keys from the Secret', () => {
    const args = container.args as string[];
    expect(args[0]).toBe('serve');
    const port = Number(argAfter(args, '--port'));
    expect(container.ports[0].containerPort).toBe(port);
    expect(container.readinessProbe.httpGet.path).toBe('/health/readiness');
    expect(container.livenessProbe.httpGet.path).toBe('/health/liveliness');
    for (const probe of [container.readinessProbe, container.livenessProbe])
      expect(probe.httpGet.port).toBe(container.ports[0].name);
    const ref = container.env.find((e: Json) => e.name === 'SEMROUTE_MASTER_KEY').valueFrom.secretKeyRef;
    expect(byKind('Secret', ref.name)?.stringData).toHaveProperty(ref.key);
    const service = byKind('Service', 'semroute')!;
    expect(service.spec.ports[0].targetPort).toBe(container.ports[0].name);
    expect(service.spec.selector).toEqual(semroute.spec.selector.matchLabels);
    expect(byKind('PodDisruptionBudget', 'semroute')?.spec.selector.matchLabels).toEqual(
      semroute.spec.selector.matchLabels,
    );
    expect(byKind('PodDisruptionBudget', 'semroute')?.spec.minAvailable).toBeLessThan(semroute.spec.replicas);
  });

  it('mounts the config the ConfigMap generator makes, and outlasts its drain', async () => {
    const generated = kustomization.configMapGenerator[0];
    const volume = semroute.spec.template.spec.volumes.find((v: Json) => v.configMap)?.configMap.name;
    expect(volume).toBe(generated.name);
    const files = (generated.files as string[]).map((f) => path.resolve('deploy/k8s', f));
    for (const f of files) expect(existsSync(f), f).toBe(true);
    const mountPath = container.volumeMounts[0].mountPath;
    expect(argAfter(container.args, '--config')).toBe(`${mountPath}/config.yaml`);
    const config = await loadProxyConfig(files.find((f) => f.endsWith('config.yaml'))!, {
      SEMROUTE_MASTER_KEY: 'sk-x',
    });
    expect(config.general.graceful_shutdown_seconds).toBeLessThan(
      semroute.spec.template.spec.terminationGracePeriodSeconds,
    );
    expect(config.general.graceful_shutdown_seconds).toBeLessThan(
      Number.parseInt(compose.services.semroute.stop_grace_period, 10),
    );
    // The hosts it names are services these files define, on their ports.
    const redis = byKind('Service', config.gateway.redis_host!)!;
    expect(redis.spec.ports[0].port).toBe(config.gateway.redis_port);
    expect(compose.services).toHaveProperty(config.gateway.redis_host!);
    for (const entry of config.gateway.model_list) {
      const base = entry.litellm_params.api_base as string | undefined;
      if (base === undefined) continue;
      const url = new URL(base);
      expect(byKind('Service', url.hostname)?.spec.ports[0].port, base).toBe(Number(url.port));
      expect(compose.services, base).toHaveProperty(url.hostname);
    }
  });
});

describe('the deployed config, served', () => {
  let redis: TestRedis;
  let dir: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    [redis, dir] = await Promise.all([startRedis(), tempDir()]);
  }, 60_000);
  afterAll(async () => {
    await redis?.close();
    await dir?.cleanup();
  });

  it('routes the README request through its auto_router, state in Redis', async () => {
    const upstream = await startFakeUpstream();
    const text = readFileSync('deploy/config/config.yaml', 'utf8')
      .replaceAll('http://fake-upstream:8001/v1', upstream.url)
      .replace('redis_host: redis', 'redis_host: 127.0.0.1')
      .replace('redis_port: 6379', `redis_port: ${redis.port}`);
    await writeFile(path.join(dir.dir, 'config.yaml'), text);
    await writeFile(path.join(dir.dir, 'router.json'), readFileSync('deploy/config/router.json'));
    const server = await serve({
      config: path.join(dir.dir, 'config.yaml'),
      port: 0,
      signals: false,
      watch: false,
      logger: false,
      env: { SEMROUTE_MASTER_KEY: 'sk-deploy-test', PATH: process.env.PATH },
    });
    try {
      const answer = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-deploy-test', 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'auto_router1',
          messages: [{ role: 'user', content: 'how do I reverse a list in python' }],
        }),
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-semroute-route')).toBe('coding');
      const readiness = (await (await fetch(`${server.url}/health/readiness`)).json()) as Json;
      expect(readiness.state_store).toMatchObject({ kind: 'redis' });
    } finally {
      await server.close();
      await upstream.close();
    }
  });
});
