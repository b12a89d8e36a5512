/**
 * The fake Anthropic API against the official SDK (@anthropic-ai/sdk 1.x, and raw HTTP as the
 * 0.x SDK and LiteLLM call it): what the fake answers must parse as the real API's answers do,
 * and what the real API refuses, the fake refuses with the API's error shape. A fake that drifted
 * from the documented API would let a wrong translation pass.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeAnthropic, startFakeAnthropic } from '../../src/fake-upstream/fake-anthropic.js';

let fake: FakeAnthropic;
beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKeys: ['sk-ant-test'], models: ['claude-3-5-sonnet-latest'] });
});
afterAll(() => fake.close());

const sdk = (apiKey = 'sk-ant-test') => new Anthropic({ apiKey, baseURL: fake.url, maxRetries: 0 });

/** A raw POST as LiteLLM and the 0.x SDK send it: x-api-key and anthropic-version 2023-06-01. */
async function post(body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${fake.url}/v1/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-api-key': 'sk-ant-test',
      'anthropic-version': '2023-06-01',
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    requestId: res.headers.get('request-id'),
    body: (await res.json()) as { type?: string; error?: { type: string; message: string } },
  };
}

const base = { model: 'claude-3-5-sonnet-latest', max_tokens: 64 };

describe('fake Anthropic API', () => {
  it('answers the official SDK, plain and streamed, with the message it parses', async () => {
    const message = await sdk().messages.create({
      ...base,
      messages: [{ role: 'user', content: 'hello there' }],
    });
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'echo: hello there' });
    expect(message.stop_reason).toBe('end_turn');
    const stream = sdk().messages.stream({ ...base, messages: [{ role: 'user', content: 'stream me' }] });
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'echo: stream me' });
    expect(final.usage.output_tokens).toBe(5);
  });

  it('streams a tool call the SDK assembles into its input object', async () => {
    fake.script([{ toolUse: { name: 'get_weather', input: { city: 'Paris', days: 2 } } }]);
    const tools = [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: {} } }];
    const final = await sdk()
      .messages.stream({ ...base, tools, messages: [{ role: 'user', content: 'weather?' }] })
      .finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content[0]).toMatchObject({
      type: 'tool_use',
      name: 'get_weather',
      input: { city: 'Paris', days: 2 },
    });
  });

  it('refuses what the API refuses, in its error shape', async () => {
    const cases: Array<[unknown, Record<string, string>, number, string]> = [
      [
        { model: base.model, messages: [{ role: 'user', content: 'x' }] },
        {},
        400,
        'max_tokens: Field required',
      ],
      [{ ...base, messages: [] }, {}, 400, 'messages: at least one message is required'],
      [
        { ...base, messages: [{ role: 'user', content: 'x' }] },
        { 'anthropic-version': '' },
        400,
        'anthropic-version',
      ],
      [
        { ...base, messages: [{ role: 'user', content: 'x' }] },
        { 'x-api-key': 'sk-wrong' },
        401,
        'invalid x-api-key',
      ],
      [
        { ...base, model: 'claude-nope', messages: [{ role: 'user', content: 'x' }] },
        {},
        404,
        'model: claude-nope',
      ],
      [
        { ...base, frequency_penalty: 1, messages: [{ role: 'user', content: 'x' }] },
        {},
        400,
        'frequency_penalty: Extra inputs are not permitted',
      ],
      [
        { ...base, messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] },
        {},
        400,
        'text content blocks must be non-empty',
      ],
      [
        {
          ...base,
          messages: [
            { role: 'user', content: 'x' },
            { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'r' }] },
          ],
        },
        {},
        400,
        'must define tools',
      ],
      [
        {
          ...base,
          tools: [{ name: 'f', input_schema: { type: 'object' } }],
          messages: [
            { role: 'user', content: 'x' },
            { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] },
            {
              role: 'user',
              content: [
                { type: 'text', text: 'y' },
                { type: 'tool_result', tool_use_id: 't1', content: 'r' },
              ],
            },
          ],
        },
        {},
        400,
        'Did not find 1 `tool_result` block(s) at the beginning',
      ],
    ];
    for (const [body, headers, status, message] of cases) {
      const answer = await post(body, headers);
      expect(answer.status, message).toBe(status);
      expect(answer.body).toMatchObject({
        type: 'error',
        error: { message: expect.stringContaining(message) },
      });
      expect(answer.requestId).toMatch(/^req_/);
    }
  });

  it('refuses temperature under API version 2026-10-21, which the SDK 1.x sends', async () => {
    const error = await sdk()
      .messages.create({ ...base, temperature: 0.5, messages: [{ role: 'user', content: 'x' }] } as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toContain('temperature: Extra inputs are not permitted');
    // The same body under 2023-06-01 is fine.
    expect(
      (await post({ ...base, temperature: 0.5, messages: [{ role: 'user', content: 'x' }] })).status,
    ).toBe(200);
  });

  it('answers 529 overloaded_error, which the SDK raises as such', async () => {
    fake.script([{ status: 529 }]);
    const error = await sdk()
      .messages.create({ ...base, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect((error as { status?: number }).status).toBe(529);
    expect((error as Error).message).toContain('overloaded_error');
  });

  it('with strict alternation, refuses two user turns in a row as the older API did', async () => {
    const strict = await startFakeAnthropic({ strictAlternation: true });
    try {
      const res = await fetch(`${strict.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          ...base,
          messages: [
            { role: 'user', content: 'a' },
            { role: 'user', content: 'b' },
          ],
        }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
        'roles must alternate',
      );
    } finally {
      await strict.close();
    }
  });
});
