import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChatRequestSchema, validate, validateChat } from '../../src/server/validate.js';

/** What a call gives: the value, or the refusal's message. */
function outcome(f: () => unknown): { value?: unknown; error?: string } {
  try {
    return { value: f() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const anyJson = fc.jsonValue({ maxDepth: 3 });
const message = fc.oneof(
  fc.record({
    role: fc.oneof(fc.constantFrom('user', 'system', 'assistant', ''), anyJson),
    content: anyJson,
  }),
  anyJson,
);
const body = fc.oneof(
  fc.record(
    {
      model: fc.oneof(fc.constantFrom('gpt-4o', ''), anyJson),
      messages: fc.oneof(fc.array(message, { maxLength: 3 }), anyJson),
      stream: fc.oneof(fc.boolean(), fc.constant(null), anyJson),
      session_id: fc.oneof(fc.string(), anyJson),
      temperature: anyJson,
    },
    { requiredKeys: [] },
  ),
  anyJson,
);

describe('validateChat, the hand-written fast path for chat bodies', () => {
  it('accepts, returns and refuses exactly what ChatRequestSchema does, with the same message', () => {
    fc.assert(
      fc.property(body, (b) => {
        const fast = outcome(() => validateChat(b));
        const schema = outcome(() => validate(ChatRequestSchema, b));
        expect(fast).toEqual(schema);
      }),
      { numRuns: 3000 },
    );
  });

  it('passes a valid body on unchanged, extra fields included', () => {
    const b = { model: 'm', messages: [{ role: 'user', content: 'hi', name: 'x' }], stream: null, top_p: 1 };
    expect(validateChat(b)).toEqual(b);
    expect(() => validateChat({ model: 'm', messages: [] })).toThrow(/messages needs at least one message/);
    expect(() => validateChat({ model: '', messages: [{ role: 'user' }] })).toThrow(/model is required/);
  });
});
