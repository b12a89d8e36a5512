/**
 * Our event-stream framing against AWS's own codec (@smithy/eventstream-codec, what the AWS SDK
 * for JavaScript reads Bedrock's ConverseStream with): each side reads what the other writes,
 * whatever the chunking of the bytes on the wire, and a damaged frame is refused, never read.
 */
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EventStreamDecoder,
  EventStreamError,
  encodeEventMessage,
  type HeaderValue,
} from '../../src/gateway/upstream/event-stream.js';

const aws = new EventStreamCodec(toUtf8, fromUtf8);

/** Splits bytes at the given cut points, as a socket may. */
function chunked(bytes: Uint8Array, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    out.push(Buffer.from(bytes.subarray(from, cut)));
    from = cut;
  }
  return out;
}

const name = fc.stringMatching(/^[:a-z][a-z-]{0,20}$/);
const payload = fc.uint8Array({ maxLength: 2_000 });

describe('event-stream, beside AWS’s codec', () => {
  it('AWS’s codec reads every message we write', () => {
    fc.assert(
      fc.property(
        fc.dictionary(name, fc.string({ maxLength: 200 }), { maxKeys: 6 }),
        payload,
        (headers, body) => {
          const message = aws.decode(encodeEventMessage(headers, Buffer.from(body)));
          expect(Buffer.from(message.body).equals(Buffer.from(body))).toBe(true);
          expect(Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, v.value]))).toEqual(
            headers,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  // Every header type AWS's codec writes but uuid and long (which it models with its own classes).
  const header = fc.oneof(
    fc.boolean().map((value) => ({ type: 'boolean' as const, value })),
    fc.integer({ min: -128, max: 127 }).map((value) => ({ type: 'byte' as const, value })),
    fc.integer({ min: -32_768, max: 32_767 }).map((value) => ({ type: 'short' as const, value })),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((value) => ({ type: 'integer' as const, value })),
    fc.uint8Array({ maxLength: 64 }).map((value) => ({ type: 'binary' as const, value })),
    fc.string({ maxLength: 100 }).map((value) => ({ type: 'string' as const, value })),
    fc
      .integer({ min: 0, max: 4_102_444_800_000 })
      .map((ms) => ({ type: 'timestamp' as const, value: new Date(ms) })),
  );
  const stream = fc.array(fc.tuple(fc.dictionary(name, header, { maxKeys: 5 }), payload), {
    minLength: 1,
    maxLength: 5,
  });

  it('we read every message AWS’s codec writes, however the bytes arrive', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), (messages, cuts) => {
        const bytes = Buffer.concat(
          messages.map(([headers, body]) => aws.encode({ headers: headers as MessageHeaders, body })),
        );
        const decoder = new EventStreamDecoder();
        const read = chunked(bytes, cuts).flatMap((chunk) => decoder.push(chunk));
        expect(decoder.pending).toBe(0);
        expect(read).toHaveLength(messages.length);
        read.forEach((message, i) => {
          const [headers, body] = messages[i]!;
          expect(message.payload.equals(Buffer.from(body))).toBe(true);
          const expected: Record<string, HeaderValue> = {};
          for (const [k, h] of Object.entries(headers))
            expected[k] = h.type === 'binary' ? Uint8Array.from(h.value) : h.value;
          expect(message.headers).toEqual(expected);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a message with any one byte changed, and keeps a cut one pending', () => {
    const whole = aws.encode({
      headers: { ':event-type': { type: 'string', value: 'contentBlockDelta' } },
      body: fromUtf8('{"delta":{"text":"hi"}}'),
    });
    fc.assert(
      fc.property(fc.nat(whole.length - 1), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const damaged = Buffer.from(whole);
        damaged[at]! ^= flip;
        // The prelude's CRC covers the lengths, the message's CRC the rest: nothing changed passes.
        expect(() => new EventStreamDecoder().push(damaged)).toThrow(EventStreamError);
      }),
      { numRuns: 500 },
    );
    const decoder = new EventStreamDecoder();
    expect(decoder.push(Buffer.from(whole.subarray(0, whole.length - 3)))).toEqual([]);
    expect(decoder.pending).toBe(whole.length - 3);
  });
});
