import { describe, expect, it } from 'vitest';
import { BodyQueue } from '../../../src/gateway/upstream/body-queue.js';

function queue() {
  const flow = { paused: 0, resumed: 0, stopped: 0 };
  const q = new BodyQueue({ pause: () => flow.paused++, resume: () => flow.resumed++ }, () => flow.stopped++);
  return { q, flow };
}

describe('BodyQueue', () => {
  it('hands chunks over in order, to a waiting reader too, then ends', async () => {
    const { q } = queue();
    const waiting = q.next();
    q.push(Buffer.from('a'));
    q.push(Buffer.from('b'));
    q.end();
    expect((await waiting).value?.toString()).toBe('a');
    const rest: string[] = [];
    for await (const chunk of q) rest.push(chunk.toString());
    expect(rest).toEqual(['b']);
  });

  it('pauses the upstream when the reader falls 16 chunks behind and resumes once it has caught up', async () => {
    const { q, flow } = queue();
    for (let i = 0; i < 20; i++) q.push(Buffer.from(String(i)));
    expect(flow.paused).toBe(1);
    for (let i = 0; i < 19; i++) await q.next();
    expect(flow.resumed).toBe(0);
    expect((await q.next()).value?.toString()).toBe('19');
    expect(flow.resumed).toBe(1);
  });

  it('gives queued chunks before a failure, then the failure', async () => {
    const { q } = queue();
    q.push(Buffer.from('x'));
    const cut = new Error('cut');
    q.fail(cut);
    expect((await q.next()).value?.toString()).toBe('x');
    await expect(q.next()).rejects.toBe(cut);
  });

  it('stops the upstream call when the reader leaves early, and not after the end', async () => {
    const { q, flow } = queue();
    q.push(Buffer.from('x'));
    for await (const _ of q) break;
    expect(flow.stopped).toBe(1);
    const ended = queue();
    ended.q.end();
    for await (const _ of ended.q) break;
    await ended.q.return();
    expect(ended.flow.stopped).toBe(0);
  });
});
