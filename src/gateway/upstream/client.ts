/**
 * Where and how to reach one deployment's HTTP API, built once per deployment by its wire
 * (`Wire.client`: origin, path prefix, query, auth headers). Every deployment shares one undici
 * keep-alive pool.
 */
import { Agent, type Dispatcher } from 'undici';
import type { Target } from '../../config/targets.js';

/** Where and how to reach one deployment; built once. */
export interface UpstreamClient {
  dispatcher: Dispatcher;
  origin: string;
  /** Path prefix, e.g. `/v1` or `/openai/deployments/<name>` (Azure). */
  basePath: string;
  /** `?api-version=…` for Azure, else empty. */
  query: string;
  headers: Record<string, string>;
  /**
   * Headers that depend on the call itself (SigV4 signs the path, the body and the time), added
   * last; the headers passed in are every other header sent.
   */
  authorize?:
    | ((call: { path: string; body: string; headers: Record<string, string> }) => Record<string, string>)
    | undefined;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Headers for this call only, over the client's (a request's extra_headers). */
  headers?: Record<string, string> | undefined;
  timeoutMs: number;
  /** Largest answer read, bytes (router_settings.max_response_bytes). Default 32 MiB. */
  maxResponseBytes?: number | undefined;
  /** Longest a stream may run once its first chunk is in, ms (router_settings.max_stream_seconds). */
  maxStreamMs?: number | undefined;
}

let shared: Dispatcher | undefined;
/** One pool for all deployments: keep-alive per origin. */
export function sharedDispatcher(): Dispatcher {
  shared ??= new Agent({ keepAliveTimeout: 30_000, connections: 128 });
  return shared;
}

/** A base URL's path without trailing slashes. */
export const pathOf = (url: URL) => url.pathname.replace(/\/+$/, '');

/** A client from its parts: the headers every call to it carries, content type first. */
export function buildClient(
  dispatcher: Dispatcher,
  base: URL,
  basePath: string,
  auth: Record<string, string>,
  target: Target,
  query = '',
): UpstreamClient {
  return {
    dispatcher,
    origin: base.origin,
    basePath,
    query,
    headers: { 'content-type': 'application/json', accept: 'application/json', ...target.headers, ...auth },
  };
}
