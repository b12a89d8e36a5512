/**
 * AWS's event-stream framing (`application/vnd.amazon.eventstream`), in which Bedrock's
 * ConverseStream answers: each message is a 12-byte prelude (total length, headers length, both
 * uint32 big-endian, and the CRC-32 of those 8 bytes), the headers (name length u8, name, value
 * type u8, value), the payload, and the CRC-32 of everything before it. Written from AWS's
 * published description of the format; both directions, so the fake upstream speaks it too.
 */
import { crc32 } from 'node:zlib';

export type HeaderValue = string | boolean | number | bigint | Uint8Array | Date;

export interface EventMessage {
  readonly headers: Readonly<Record<string, HeaderValue>>;
  readonly payload: Buffer;
}

/** Largest message read (AWS's limit is 16 MiB). */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export class EventStreamError extends Error {}

function readHeaders(bytes: Buffer): Record<string, HeaderValue> {
  const headers: Record<string, HeaderValue> = {};
  let at = 0;
  const need = (n: number) => {
    if (at + n > bytes.length) throw new EventStreamError('an event-stream header runs past its block');
  };
  while (at < bytes.length) {
    need(1);
    const nameLength = bytes.readUInt8(at);
    at += 1;
    need(nameLength + 1);
    const name = bytes.toString('utf8', at, at + nameLength);
    at += nameLength;
    const type = bytes.readUInt8(at);
    at += 1;
    switch (type) {
      case 0:
      case 1:
        headers[name] = type === 0;
        break;
      case 2:
        need(1);
        headers[name] = bytes.readInt8(at);
        at += 1;
        break;
      case 3:
        need(2);
        headers[name] = bytes.readInt16BE(at);
        at += 2;
        break;
      case 4:
        need(4);
        headers[name] = bytes.readInt32BE(at);
        at += 4;
        break;
      case 5:
        need(8);
        headers[name] = bytes.readBigInt64BE(at);
        at += 8;
        break;
      case 6:
      case 7: {
        need(2);
        const length = bytes.readUInt16BE(at);
        at += 2;
        need(length);
        headers[name] =
          type === 7
            ? bytes.toString('utf8', at, at + length)
            : Uint8Array.from(bytes.subarray(at, at + length));
        at += length;
        break;
      }
      case 8:
        need(8);
        headers[name] = new Date(Number(bytes.readBigInt64BE(at)));
        at += 8;
        break;
      case 9:
        need(16);
        headers[name] = Uint8Array.from(bytes.subarray(at, at + 16));
        at += 16;
        break;
      default:
        throw new EventStreamError(`an event-stream header of unknown type ${type}`);
    }
  }
  return headers;
}

/** Splits bytes as they arrive into whole messages, checking both CRCs of each. */
export class EventStreamDecoder {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): EventMessage[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const out: EventMessage[] = [];
    while (this.buffered.length >= 12) {
      const total = this.buffered.readUInt32BE(0);
      const headersLength = this.buffered.readUInt32BE(4);
      if (crc32(this.buffered.subarray(0, 8)) !== this.buffered.readUInt32BE(8))
        throw new EventStreamError('an event-stream prelude whose CRC does not match');
      if (total < 16 || total > MAX_MESSAGE_BYTES || headersLength > total - 16)
        throw new EventStreamError(`an event-stream message of impossible length ${total}`);
      if (this.buffered.length < total) break;
      const message = this.buffered.subarray(0, total);
      if (crc32(message.subarray(0, total - 4)) !== message.readUInt32BE(total - 4))
        throw new EventStreamError('an event-stream message whose CRC does not match');
      out.push({
        headers: readHeaders(message.subarray(12, 12 + headersLength)),
        payload: Buffer.from(message.subarray(12 + headersLength, total - 4)),
      });
      this.buffered = this.buffered.subarray(total);
    }
    return out;
  }

  /** Bytes left that are not a whole message (a stream that ended here was cut). */
  get pending(): number {
    return this.buffered.length;
  }
}

/** One message, string headers only (all Bedrock sends). */
export function encodeEventMessage(
  headers: Readonly<Record<string, string>>,
  payload: Buffer | string,
): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name, 'utf8');
    const v = Buffer.from(value, 'utf8');
    const head = Buffer.alloc(1 + n.length + 1 + 2);
    head.writeUInt8(n.length, 0);
    n.copy(head, 1);
    head.writeUInt8(7, 1 + n.length);
    head.writeUInt16BE(v.length, 2 + n.length);
    parts.push(head, v);
  }
  const headerBytes = Buffer.concat(parts);
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const total = 12 + headerBytes.length + body.length + 4;
  const message = Buffer.alloc(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(headerBytes.length, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  headerBytes.copy(message, 12);
  body.copy(message, 12 + headerBytes.length);
  message.writeUInt32BE(crc32(message.subarray(0, total - 4)), total - 4);
  return message;
}
