/**
 * A JSON answer written straight to the socket (not through fastify's send pipeline: a
 * proxied request's own CPU is the point of the proxy, see README Performance).
 */
import type { ServerResponse } from 'node:http';

export function writeJsonAnswer(raw: ServerResponse, headers: Record<string, string>, text: string): void {
  headers['content-type'] = 'application/json; charset=utf-8';
  headers['content-length'] = String(Buffer.byteLength(text));
  raw.writeHead(200, headers);
  raw.end(text);
}
