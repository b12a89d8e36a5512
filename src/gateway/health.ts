/**
 * Cooldowns: a deployment that fails too often (more than `allowed_fails` in a minute), or with a
 * kind that cools at once (`failure-policy.ts`), rests for `cooldown_time`. Failing again while
 * resting pushes the deadline later (LiteLLM #40130 kept the first). Fallback calls go through
 * the same path, so failing fallbacks are cooled too (LiteLLM #31876).
 */
import type { GatewayConfig } from '../config/gateway-schema.js';
import type { UpstreamErrorKind } from '../errors.js';
import type { Deployment } from './deployment.js';
import { coolsAtOnce, FAILURE_POLICY } from './failure-policy.js';
import type { Clock, CooldownStore } from './state/state-store.js';
import type { CooldownEvent } from './types.js';

/** The last failure of a deployment seen by this process: what a "cooling down" answer names. */
export interface LastFailure {
  kind: UpstreamErrorKind;
  status: number | undefined;
  message: string;
  at: number;
}

export class Health {
  private readonly last = new Map<string, LastFailure>();

  constructor(
    private readonly config: GatewayConfig,
    private readonly store: CooldownStore,
    private readonly now: Clock,
    private readonly onCooldown: (event: CooldownEvent) => void = () => {},
  ) {}

  private settings(d: Deployment): { allowedFails: number; cooldownMs: number } {
    const group = this.config.model_group_cooldown?.[d.group];
    return {
      allowedFails: group?.allowed_fails ?? this.config.allowed_fails,
      cooldownMs: (d.cooldownTime ?? group?.cooldown_time ?? this.config.cooldown_time) * 1000,
    };
  }

  /** What last went wrong with a deployment, as this process saw it. */
  lastFailure(id: string): LastFailure | undefined {
    return this.last.get(id);
  }

  /** Records a failure; returns the cooldown deadline when the deployment now rests. */
  async failed(
    d: Deployment,
    kind: UpstreamErrorKind,
    status: number | undefined,
    message = '',
  ): Promise<number | undefined> {
    if (this.config.disable_cooldowns || !FAILURE_POLICY[kind].counted) return undefined;
    this.last.set(d.id, { kind, status, message, at: this.now() });
    const { allowedFails, cooldownMs } = this.settings(d);
    const count = await this.store.recordFailure(d.id);
    if (!coolsAtOnce(kind, status) && count <= allowedFails) return undefined;
    const until = await this.store.coolDown(d.id, this.now() + cooldownMs);
    this.onCooldown({ deployment: d, until, kind });
    return until;
  }

  /** The deployments not resting, and the earliest return among those that are. */
  async available(
    deployments: readonly Deployment[],
  ): Promise<{ healthy: Deployment[]; earliestReturn: number | undefined }> {
    if (this.config.disable_cooldowns) return { healthy: [...deployments], earliestReturn: undefined };
    const cooling = await this.store.cooldowns(deployments.map((d) => d.id));
    const healthy = deployments.filter((d) => !cooling.has(d.id));
    const earliestReturn = cooling.size === 0 ? undefined : Math.min(...cooling.values());
    return { healthy, earliestReturn };
  }
}
