/**
 * What goes wrong upstream, in the log: every failed attempt at warn with its deployment, group,
 * kind, status and the start of the upstream's message (keys scrubbed), but rate-limited per
 * deployment and kind — the first at once, then one summary line with a count per window — so a
 * storm of a thousand failures writes a handful of lines. A cooldown's start and end are logged
 * once each. Prompts never appear here: upstream messages are cut to 200 characters.
 */
import type { UpstreamError } from '../errors.js';
import type { Deployment } from '../gateway/deployment.js';
import type { CooldownEvent } from '../gateway/types.js';
import { redactSecrets } from './secrets.js';

export interface FailureLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

export interface FailureLogOptions {
  /** Window of a failure summary, ms. Default 30 s. */
  windowMs?: number | undefined;
  /** Whether a deployment still cools (a later failure, here or on another instance, extends it). */
  stillCooling?: ((id: string) => Promise<number | undefined>) | undefined;
  now?: (() => number) | undefined;
}

interface Window {
  suppressed: number;
  latest: string;
  timer: NodeJS.Timeout;
}

const MESSAGE_CHARS = 200;

export class FailureLog {
  private readonly windows = new Map<string, Window>();
  private readonly cooling = new Map<string, NodeJS.Timeout>();
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(
    private readonly logger: FailureLogger,
    /** Every key of the config now serving: scrubbed from upstream messages. */
    private readonly secrets: () => readonly string[],
    private readonly options: FailureLogOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  private scrub(message: string): string {
    return redactSecrets(message, this.secrets()).slice(0, MESSAGE_CHARS);
  }

  /** One failed upstream attempt (`reqId`: the request it belonged to, named on the first line). */
  failure(group: string, deployment: Deployment, error: UpstreamError, reqId?: string): void {
    const key = `${deployment.id}\u0000${error.kind}`;
    const message = this.scrub(error.message);
    const open = this.windows.get(key);
    if (open !== undefined) {
      open.suppressed++;
      open.latest = message;
      return;
    }
    this.logger.warn(
      {
        ...(reqId === undefined ? {} : { reqId }),
        group,
        deployment: deployment.id,
        kind: error.kind,
        status: error.status ?? null,
        message,
      },
      'upstream call failed',
    );
    const window: Window = {
      suppressed: 0,
      latest: message,
      timer: setTimeout(() => this.closeWindow(key, group, deployment, error.kind), this.windowMs),
    };
    window.timer.unref();
    this.windows.set(key, window);
  }

  private closeWindow(key: string, group: string, deployment: Deployment, kind: string): void {
    const window = this.windows.get(key);
    this.windows.delete(key);
    if (window === undefined || window.suppressed === 0) return;
    this.logger.warn(
      {
        group,
        deployment: deployment.id,
        kind,
        count: window.suppressed,
        seconds: this.windowMs / 1000,
        message: window.latest,
      },
      `upstream call failed ${window.suppressed} more time(s) in ${this.windowMs / 1000} s`,
    );
  }

  /** A deployment put in cooldown (or its cooldown pushed later): logged when it starts, and when it ends. */
  cooldown(event: CooldownEvent): void {
    const { deployment, until, kind } = event;
    const known = this.cooling.get(deployment.id);
    if (known === undefined) {
      this.logger.warn(
        {
          group: deployment.group,
          deployment: deployment.id,
          kind,
          until: new Date(until).toISOString(),
        },
        'deployment cooling down',
      );
    } else clearTimeout(known);
    this.scheduleEnd(deployment, until);
  }

  private scheduleEnd(deployment: Deployment, until: number): void {
    const timer = setTimeout(
      async () => {
        const later = await this.options.stillCooling?.(deployment.id).catch(() => undefined);
        if (later !== undefined && later > this.now()) return this.scheduleEnd(deployment, later);
        this.cooling.delete(deployment.id);
        this.logger.info(
          { group: deployment.group, deployment: deployment.id },
          'deployment back from cooldown',
        );
      },
      Math.max(0, until - this.now()),
    );
    timer.unref();
    this.cooling.set(deployment.id, timer);
  }

  /** Writes the summaries still open and stops the timers (shutdown). */
  close(): void {
    for (const timer of this.cooling.values()) clearTimeout(timer);
    this.cooling.clear();
    for (const [key, window] of this.windows) {
      clearTimeout(window.timer);
      if (window.suppressed > 0) {
        const [deployment, kind] = key.split('\u0000');
        this.logger.warn(
          { deployment, kind, count: window.suppressed, message: window.latest },
          `upstream call failed ${window.suppressed} more time(s)`,
        );
      }
    }
    this.windows.clear();
  }
}
