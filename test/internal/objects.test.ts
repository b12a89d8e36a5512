import { describe, expect, it } from 'vitest';
import { withFields } from '../../src/internal/objects.js';

describe('withFields', () => {
  it('copies like a spread: fields win, keys keep their order, the base is untouched', () => {
    const base = { model: 'general', messages: [{ role: 'user' }], temperature: 0.5 };
    const out = withFields(base, { model: 'm', stream: false });
    expect(JSON.stringify(out)).toBe(JSON.stringify({ ...base, model: 'm', stream: false }));
    expect(Object.keys(out)).toEqual(['model', 'messages', 'temperature', 'stream']);
    expect(base.model).toBe('general');
    expect(out.messages).toBe(base.messages);
  });

  it('keeps an own __proto__ key as data, never as the prototype', () => {
    const base = JSON.parse('{"model":"x","__proto__":{"polluted":true}}') as { model: string };
    const out = withFields(base, { model: 'm' });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect((out as { polluted?: boolean }).polluted).toBeUndefined();
    expect(JSON.stringify(out)).toBe('{"model":"m","__proto__":{"polluted":true}}');
  });
});
