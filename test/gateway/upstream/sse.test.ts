import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../../src/errors.js';
import { parseGatewayConfig } from '../../../src/config/gateway-schema.js';
import { toDeployment } from '../../../src/gateway/deployment.js';
import { sseEvents } from '../../../src/gateway/upstream/sse.js';

const deployment = toDeployment(
  parseGatewayConfig({ model_list: [{ model_name: 'g', litellm_params: { model: 'openai/m' } }] })
    .model_list[0]!,
);

async function* bytes(text: string, cuts: number[]): AsyncGenerator<Buffer> {
  const all = Buffer.from(text);
  let at = 0;
  for (const cut of [...cuts, all.length]) {
    yield all.subarray(at, cut);
    at = cut;
  }
}

async function collect(text: string, cuts: number[] = []): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const chunk of sseEvents(bytes(text, cuts), deployment)) out.push(chunk);
  return out;
}

const chunk = (content: string) => JSON.stringify({ id: 'c', choices: [{ index: 0, delta: { content } }] });

describe('SSE from upstreams', () => {
  it('reads the body to its end after [DONE], so the response closes cleanly instead of aborting', async () => {
    // Two reads: the events, then what follows [DONE] in the same response.
    const body = Readable.from([
      Buffer.from(`data: ${chunk('hi')}\n\ndata: [DONE]\n\n`),
      Buffer.from(': trailing comment\n\n'),
    ]);
    const out: unknown[] = [];
    for await (const event of sseEvents(body, deployment)) out.push(event);
    expect(out).toHaveLength(1);
    // The stream ended at [DONE]; the rest is read in the background, to the body's end.
    if (!body.readableEnded) await new Promise((resolve) => body.once('end', resolve));
    expect(body.readableEnded).toBe(true);
    expect(body.errored).toBeNull();
  });

  it('reads OpenAI-style events, whatever the byte boundaries, including inside a UTF-8 character', async () => {
    const text = `data: ${chunk('héllo 👋')}\n\ndata: ${chunk(' world')}\n\ndata: [DONE]\n\n`;
    const whole = await collect(text);
    expect(whole).toHaveLength(2);
    // Every single split point gives the same events.
    const length = Buffer.byteLength(text);
    for (let cut = 1; cut < length; cut++) expect(await collect(text, [cut])).toEqual(whole);
    expect(
      await collect(
        text,
        Array.from({ length: length - 1 }, (_, i) => i + 1),
      ),
    ).toEqual(whole);
  });

  it('takes CRLF line ends, comments, event lines, data without a space, and stops at [DONE]', async () => {
    const text = `: keep-alive\r\n\r\nevent: message\r\ndata:${chunk('a')}\r\n\ndata: ${chunk('b')}\n\r\ndata: [DONE]\n\ndata: ${chunk('after')}\n\n`;
    const events = (await collect(text)) as Array<{ choices: Array<{ delta: { content: string } }> }>;
    expect(events.map((e) => e.choices[0]!.delta.content)).toEqual(['a', 'b']);
  });

  it('turns an error event into an UpstreamError with a kind', async () => {
    const text = `data: ${chunk('a')}\n\ndata: {"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}\n\n`;
    await expect(collect(text)).rejects.toBeInstanceOf(UpstreamError);
  });
});
