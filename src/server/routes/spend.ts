/**
 * Spend you can see, in LiteLLM's names: `GET /key/info` (the caller's own key: spend in its
 * budget window, budget, reset time, limits; the master key may name any key with `?key=`, and
 * without one sees the proxy's budget), `GET /spend/keys` and `GET /spend/models` (the master
 * key: spend since the state began, per key alias and per model group).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, SemrouteError } from '../../errors.js';
import type { ServerContext } from '../context.js';
import { errorAnswer } from '../openai-errors.js';
import type { KeyEntry } from '../runtime.js';

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
const usd = (n: number) => Number(n.toFixed(10));

export function registerSpend(app: FastifyInstance, { runtime }: ServerContext): void {
  const refuse = (reply: FastifyReply, error: SemrouteError) => {
    const { status, body, headers } = errorAnswer('/key/info', error);
    return reply.code(status).headers(headers).send(body);
  };

  app.get('/key/info', async (request: FastifyRequest, reply: FastifyReply) => {
    const { keys, gateway, config } = runtime.serving;
    const asked = (request.query as { key?: unknown }).key;
    if (asked !== undefined && typeof asked !== 'string')
      return refuse(
        reply,
        new SemrouteError(ErrorCode.INPUT_INVALID, '?key= names one key', {
          path: 'key',
          expected: 'one key',
        }),
      );
    let entry: KeyEntry | undefined = request.key;
    if (typeof asked === 'string' && asked !== '') {
      const named = keys.get(asked);
      // A key may read itself; only the operator may read another (and an unknown key is not there).
      if (request.key !== undefined && named !== request.key)
        return refuse(
          reply,
          new SemrouteError(ErrorCode.MASTER_KEY_REQUIRED, 'A key may only read its own /key/info'),
        );
      if (named === undefined)
        return refuse(reply, new SemrouteError(ErrorCode.INPUT_INVALID, 'No such key', { path: 'key' }));
      entry = named;
    }
    if (entry === undefined) {
      // The operator without ?key=: the whole proxy's budget.
      const status = await gateway.ledger.status(undefined);
      return {
        key: 'proxy',
        info: {
          key_alias: request.callerAlias ?? null,
          spend: usd(status.spentUsd),
          held_spend: usd(status.heldUsd),
          max_budget: config.gateway.max_budget ?? null,
          budget_duration: config.gateway.budget_duration?.text ?? null,
          budget_reset_at: iso(status.resetAt),
          models: [],
        },
      };
    }
    const status = await gateway.ledger.status(entry.account);
    const a = entry.account;
    return {
      // The key's id (a hash): the key itself is never answered.
      key: entry.id,
      info: {
        key_alias: entry.alias,
        spend: usd(status.spentUsd),
        held_spend: usd(status.heldUsd),
        max_budget: a.maxBudgetUsd ?? null,
        budget_duration: a.budgetDuration?.text ?? null,
        budget_reset_at: a.budgetDuration === undefined ? null : iso(status.resetAt),
        rpm_limit: a.rpm ?? null,
        tpm_limit: a.tpm ?? null,
        max_parallel_requests: a.maxParallel ?? null,
        models: entry.models ?? [],
        metadata: entry.metadata ?? {},
      },
    };
  });

  const listed = (kind: 'key' | 'model', name: 'key_alias' | 'model') => async () => {
    const totals = await runtime.serving.gateway.ledger.totals(kind);
    return [...totals].sort((a, b) => b[1] - a[1]).map(([id, spend]) => ({ [name]: id, spend: usd(spend) }));
  };
  app.get('/spend/keys', listed('key', 'key_alias'));
  app.get('/spend/models', listed('model', 'model'));
}
