/**
 * `semroute check`: every deployment of a config called once, the way requests will call it, so
 * that a wrong api_base, a wrong key or an unknown model shows before traffic does. A chat
 * deployment gets a one-token chat request, an embedding one a one-input embeddings request;
 * or, with `probe: 'models'`, each upstream is asked for `GET /models` (no tokens spent).
 */
import type { Dispatcher } from 'undici';
import type { GatewayConfig } from '../config/gateway-schema.js';
import type { Target } from '../config/targets.js';
import { isSemrouteError, UpstreamError } from '../errors.js';
import type { Deployment } from './deployment.js';
import { ModelTable } from './models.js';
import { hintFor, httpError, toUpstreamError } from './upstream/errors.js';
import type { UpstreamClient } from './upstream/client.js';
import { WIRES } from './upstream/wire.js';

export interface CheckRow {
  group: string;
  deployment: string;
  provider: string;
  url: string;
  model: string;
  ok: boolean;
  /** The upstream's HTTP status, when it answered. */
  status: number | null;
  ms: number;
  error: string | null;
  hint: string | null;
}

export interface CheckOptions {
  /** `request` (default): one real, minimal call. `models`: GET /models only. */
  probe?: 'request' | 'models' | undefined;
  /** Per call, ms. Default 10 s. */
  timeoutMs?: number | undefined;
  dispatcher?: Dispatcher | undefined;
}

async function getModels(client: UpstreamClient, d: Deployment, timeoutMs: number): Promise<void> {
  const res = await client.dispatcher.request({
    origin: client.origin,
    path: `${client.basePath}/models${client.query}`,
    method: 'GET',
    headers: client.headers,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await res.body.text();
  if (res.statusCode >= 400) throw httpError(d, res.statusCode, res.headers, text, client);
}

export async function checkDeployments(
  config: GatewayConfig,
  options: CheckOptions = {},
): Promise<CheckRow[]> {
  const table = new ModelTable(config, [], options.dispatcher);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deployments = table
    .list()
    .filter((m) => m.kind === 'group')
    .flatMap((m) => table.deployments(m.id))
    // A wildcard has no one model to try.
    .filter((d): d is Deployment & { target: Target } => d.target !== undefined);
  return Promise.all(
    deployments.map(async (d): Promise<CheckRow> => {
      const target = d.target;
      const client = table.client(target);
      const wire = WIRES[target.provider.wire];
      const started = performance.now();
      const row = {
        group: d.group,
        deployment: d.id,
        provider: target.provider.name,
        url: `${client.origin}${client.basePath}`,
        model: d.model,
      };
      try {
        const call = { timeoutMs };
        if (options.probe === 'models') await getModels(client, d, timeoutMs);
        else if (d.info.mode === 'embedding' && wire.embedding !== undefined)
          await wire.embedding(client, d, { model: d.model, input: 'ping' }, call);
        else {
          const ping = { model: d.model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 };
          await wire.chat(client, d, ping, call, true);
        }
        return { ...row, ok: true, status: 200, ms: performance.now() - started, error: null, hint: null };
      } catch (error) {
        const e = isSemrouteError(error) ? error : toUpstreamError(error, d, undefined);
        const status = e instanceof UpstreamError ? (e.status ?? null) : null;
        const hint =
          (e.details?.hint as string | undefined) ??
          (status === null ? null : (hintFor(client, status) ?? null));
        return {
          ...row,
          ok: false,
          status,
          ms: performance.now() - started,
          error: e.message,
          hint: hint ?? null,
        };
      }
    }),
  );
}
