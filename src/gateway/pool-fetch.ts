/**
 * A `fetch` for the openai client built on undici's Agent.request: keep-alive pools per
 * origin without the WHATWG Request machinery of the global fetch, which costs more CPU than
 * the rest of a proxied call. Same contract for what the SDK uses: status, headers, body
 * stream, abort signal.
 */
import { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';

export function poolFetch(
  agent: Dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 128 }),
): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const body =
      init.body === undefined || init.body === null
        ? null
        : typeof init.body === 'string'
          ? init.body
          : Buffer.from(await new Response(init.body).arrayBuffer());
    const res = await agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      body,
      ...(init.signal ? { signal: init.signal } : {}),
    });
    const responseHeaders = new Headers();
    for (const [key, value] of Object.entries(res.headers)) {
      if (Array.isArray(value)) for (const v of value) responseHeaders.append(key, v);
      else if (value !== undefined) responseHeaders.set(key, value);
    }
    const stream =
      res.statusCode === 204 || res.statusCode === 304
        ? null
        : (Readable.toWeb(res.body) as ReadableStream<Uint8Array>);
    return new Response(stream, { status: res.statusCode, headers: responseHeaders });
  }) as typeof fetch;
}
