/** The failure log on its own: first line at once, a summary per window, cooldowns once each way. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UpstreamError } from '../../src/errors.js';
import type { Deployment } from '../../src/gateway/deployment.js';
import { FailureLog } from '../../src/server/failure-log.js';
import { deployment } from '../gateway/strategies/strategy.case.js';

afterEach(() => {
  vi.useRealTimers();
});

function recorder() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string | undefined }> = [];
  return {
    lines,
    warn: (obj: object, msg?: string) =>
      void lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
    info: (obj: object, msg?: string) =>
      void lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
  };
}

describe('FailureLog', () => {
  it('logs the first failure of a deployment and kind at once, then one summary per window, keys scrubbed', () => {
    vi.useFakeTimers();
    const log = recorder();
    const failures = new FailureLog(log, () => ['sk-secret-1234'], { windowMs: 30_000 });
    const d: Deployment = deployment('d1');
    const error = new UpstreamError(
      'RateLimitError',
      'upstream g answered HTTP 429: slow down sk-secret-1234',
      429,
    );
    for (let i = 0; i < 1000; i++) failures.failure('g', d, error);
    failures.failure('g', d, new UpstreamError('Timeout', 'no answer', undefined));
    expect(log.lines).toHaveLength(2);
    expect(log.lines[0]!.obj).toMatchObject({
      group: 'g',
      deployment: 'd1',
      kind: 'RateLimitError',
      status: 429,
    });
    expect(String(log.lines[0]!.obj.message)).toContain('[redacted]');
    expect(JSON.stringify(log.lines)).not.toContain('sk-secret-1234');
    vi.advanceTimersByTime(30_000);
    expect(log.lines).toHaveLength(3);
    expect(log.lines[2]!.obj).toMatchObject({ kind: 'RateLimitError', count: 999 });
    // A quiet window writes nothing; the next failure is logged at once again.
    vi.advanceTimersByTime(60_000);
    failures.failure('g', d, error);
    expect(log.lines).toHaveLength(4);
    failures.close();
  });

  it('logs a cooldown when it starts and when it ends, once each however often it is pushed later', async () => {
    vi.useFakeTimers();
    let now = 1_000_000;
    const log = recorder();
    const failures = new FailureLog(log, () => [], { now: () => now, stillCooling: async () => undefined });
    const d = deployment('d2');
    failures.cooldown({ deployment: d, until: now + 5_000, kind: 'NotFoundError' });
    failures.cooldown({ deployment: d, until: now + 8_000, kind: 'NotFoundError' });
    expect(log.lines.filter((l) => l.msg === 'deployment cooling down')).toHaveLength(1);
    now += 8_000;
    await vi.advanceTimersByTimeAsync(8_000);
    expect(log.lines.filter((l) => l.msg === 'deployment back from cooldown')).toHaveLength(1);
    failures.close();
  });
});
