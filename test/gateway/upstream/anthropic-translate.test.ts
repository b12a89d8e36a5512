/** OpenAI chat ⇄ Anthropic Messages, field by field, as the Messages API documents them. */
import { describe, expect, it } from 'vitest';
import { isSemrouteError } from '../../../src/errors.js';
import {
  AnthropicStreamTranslator,
  fromAnthropicMessage,
  toAnthropicRequest,
} from '../../../src/gateway/upstream/anthropic-translate.js';

const model = 'claude-3-5-sonnet-latest';
const PNG = 'iVBORw0KGgo=';

describe('chat request → Messages request', () => {
  it('moves every system and developer message into system blocks, keeping cache_control', () => {
    const out = toAnthropicRequest(
      {
        model,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hi' },
          {
            role: 'developer',
            content: [{ type: 'text', text: 'Cite.', cache_control: { type: 'ephemeral' } }],
          },
        ],
      },
      false,
    );
    expect(out.system).toEqual([
      { type: 'text', text: 'Be brief.' },
      { type: 'text', text: 'Cite.', cache_control: { type: 'ephemeral' } },
    ]);
    expect(out.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
    expect(out.max_tokens).toBe(4096);
  });

  it('merges same-role neighbours into alternating turns, tool results first', () => {
    const out = toAnthropicRequest(
      {
        model,
        tools: [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              parameters: { type: 'object', properties: { city: { type: 'string' } } },
            },
          },
        ],
        messages: [
          { role: 'user', content: 'one' },
          { role: 'user', content: 'two' },
          {
            role: 'assistant',
            content: 'Checking. ',
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '15C' },
          { role: 'user', content: 'and tomorrow?' },
        ],
      },
      false,
    );
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'one' },
          { type: 'text', text: 'two' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking. ' },
          { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '15C' },
          { type: 'text', text: 'and tomorrow?' },
        ],
      },
    ]);
    expect(out.tools).toEqual([
      { name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
    ]);
  });

  it('sends images as base64 or URL sources and PDFs as documents; refuses other media', () => {
    const out = toAnthropicRequest(
      {
        model,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is this?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
              { type: 'image_url', image_url: { url: 'data:application/pdf;base64,JVBERi0=' } },
            ],
          },
        ],
      },
      false,
    );
    expect((out.messages as Array<{ content: unknown[] }>)[0]!.content.slice(1)).toEqual([
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } },
    ]);
    const bmp = () =>
      toAnthropicRequest(
        {
          model,
          messages: [
            {
              role: 'user',
              content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,Qk0=' } }],
            },
          ],
        },
        false,
      );
    expect(bmp).toThrow(/messages\[0\]\.content\[0\]\.image_url\.url: Anthropic takes no image\/bmp image/);
  });

  it('maps tool_choice, parallel_tool_calls, stop, user, max_completion_tokens and reasoning_effort', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    const ask = (extra: Record<string, unknown>) =>
      toAnthropicRequest({ model, messages: [{ role: 'user', content: 'x' }], tools, ...extra }, false);
    expect(ask({ tool_choice: 'required' }).tool_choice).toEqual({ type: 'any' });
    expect(ask({ tool_choice: 'none' }).tool_choice).toEqual({ type: 'none' });
    expect(ask({ tool_choice: { type: 'function', function: { name: 'f' } } }).tool_choice).toEqual({
      type: 'tool',
      name: 'f',
    });
    expect(ask({ parallel_tool_calls: false }).tool_choice).toEqual({
      type: 'auto',
      disable_parallel_tool_use: true,
    });
    expect(ask({}).tools).toEqual([{ name: 'f', input_schema: { type: 'object', properties: {} } }]);
    expect(ask({ stop: 'END' }).stop_sequences).toEqual(['END']);
    expect(ask({ stop: ['  ', 'STOP'] }).stop_sequences).toEqual(['STOP']);
    expect(ask({ user: 'user-42' }).metadata).toEqual({ user_id: 'user-42' });
    expect(ask({ user: 'someone@example.com' }).metadata).toBeUndefined();
    expect(ask({ max_completion_tokens: 100 }).max_tokens).toBe(100);
    expect(ask({ temperature: 0.2, top_p: 0.9, top_k: 5 })).toMatchObject({
      temperature: 0.2,
      top_p: 0.9,
      top_k: 5,
    });
    const thinking = ask({ reasoning_effort: 'low', max_tokens: 500 });
    expect(thinking.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(thinking.max_tokens as number).toBeGreaterThan(1024);
  });

  it('refuses parameters Anthropic has no equivalent for, or drops them with drop_params', () => {
    const body = { model, messages: [{ role: 'user', content: 'x' }], frequency_penalty: 0.5, seed: 7, n: 2 };
    try {
      toAnthropicRequest(body, false);
      throw new Error('accepted');
    } catch (error) {
      expect(isSemrouteError(error)).toBe(true);
      expect((error as Error).message).toMatch(
        /frequency_penalty: Anthropic has no such parameter.*drop_params: true/,
      );
    }
    const dropped = toAnthropicRequest(body, true);
    expect(dropped).not.toHaveProperty('frequency_penalty');
    expect(dropped).not.toHaveProperty('seed');
    expect(dropped).not.toHaveProperty('n');
  });

  it('turns response_format into a forced tool whose input is the answer', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } } };
    const out = toAnthropicRequest(
      {
        model,
        messages: [{ role: 'user', content: 'x' }],
        response_format: { type: 'json_schema', json_schema: { name: 'c', schema } },
      },
      false,
    );
    expect(out.tool_choice).toEqual({ type: 'tool', name: 'json_tool_call' });
    expect(out.tools).toEqual([
      { name: 'json_tool_call', description: 'Answer with this JSON', input_schema: schema },
    ]);
    const answer = fromAnthropicMessage(
      {
        id: 'msg_1',
        model,
        content: [{ type: 'tool_use', id: 't', name: 'json_tool_call', input: { city: 'Paris' } }],
        stop_reason: 'tool_use',
        usage: { input_tokens: 3, output_tokens: 4 },
      },
      true,
    );
    expect(answer.choices[0]!.message.content).toBe('{"city":"Paris"}');
    expect(answer.choices[0]!.finish_reason).toBe('stop');
  });
});

describe('Messages answer → chat completion', () => {
  it('carries text, tool calls, finish reason and usage with cached tokens counted in', () => {
    const out = fromAnthropicMessage(
      {
        id: 'msg_1',
        model,
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 's' },
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
        ],
        stop_reason: 'tool_use',
        usage: {
          input_tokens: 10,
          output_tokens: 5,
          cache_creation_input_tokens: 2,
          cache_read_input_tokens: 3,
        },
      },
      false,
    );
    expect(out.choices[0]!.message).toMatchObject({
      role: 'assistant',
      content: 'Let me check.',
      reasoning_content: 'hmm',
      tool_calls: [
        { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      ],
    });
    expect(out.choices[0]!.finish_reason).toBe('tool_calls');
    expect(out.usage).toEqual({
      prompt_tokens: 15,
      completion_tokens: 5,
      total_tokens: 20,
      prompt_tokens_details: { cached_tokens: 3 },
    });
    for (const [stop, finish] of [
      ['end_turn', 'stop'],
      ['stop_sequence', 'stop'],
      ['max_tokens', 'length'],
      ['refusal', 'content_filter'],
      ['model_context_window_exceeded', 'length'],
      ['pause_turn', 'stop'],
    ]) {
      expect(
        fromAnthropicMessage({ content: [], stop_reason: stop, usage: {} }, false).choices[0]!.finish_reason,
      ).toBe(finish);
    }
  });
});

describe('Messages stream → chat chunks', () => {
  it('numbers tool calls 0..k whatever their block index, and closes an argument-less call with {}', () => {
    const t = new AnthropicStreamTranslator(false, true);
    const events: Array<[string, Record<string, unknown>]> = [
      [
        'message_start',
        { message: { id: 'msg_1', model, content: [], usage: { input_tokens: 9, output_tokens: 1 } } },
      ],
      ['ping', {}],
      ['content_block_start', { index: 0, content_block: { type: 'text', text: '' } }],
      ['content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } }],
      ['content_block_stop', { index: 0 }],
      [
        'content_block_start',
        { index: 1, content_block: { type: 'tool_use', id: 'toolu_a', name: 'a', input: {} } },
      ],
      ['content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '' } }],
      ['content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"x":' } }],
      ['content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '1}' } }],
      ['content_block_stop', { index: 1 }],
      [
        'content_block_start',
        { index: 2, content_block: { type: 'tool_use', id: 'toolu_b', name: 'b', input: {} } },
      ],
      ['content_block_stop', { index: 2 }],
      ['message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 12 } }],
      ['message_stop', {}],
    ];
    const chunks = events.flatMap(([e, d]) => t.push(e, { type: e, ...d }));
    expect(chunks.every((c) => c.id === 'msg_1' && c.model === model)).toBe(true);
    const deltas = chunks.filter((c) => c.choices.length > 0).map((c) => c.choices[0]!.delta);
    expect(deltas[0]).toEqual({ role: 'assistant', content: '' });
    expect(deltas[1]).toEqual({ content: 'Hi' });
    expect(deltas.filter((d) => d.tool_calls).map((d) => d.tool_calls![0])).toEqual([
      { index: 0, id: 'toolu_a', type: 'function', function: { name: 'a', arguments: '' } },
      { index: 0, function: { arguments: '{"x":' } },
      { index: 0, function: { arguments: '1}' } },
      { index: 1, id: 'toolu_b', type: 'function', function: { name: 'b', arguments: '' } },
      { index: 1, function: { arguments: '{}' } },
    ]);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 });
  });
});
