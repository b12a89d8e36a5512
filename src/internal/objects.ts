/**
 * A copy of `base` with `fields` set, the same as `{ ...base, ...fields }` (keys already in
 * `base` keep their place, so JSON bodies serialise in the same order).
 *
 * For the request path only: on Node 20 (V8 11.3) a spread followed by more properties,
 * `{ ...base, model }`, leaves the fast object-clone path and costs about 0.5 µs, against
 * 0.07 µs for this and 0.02 µs for a plain spread. A proxied request made a handful of them.
 */
export function withFields<T extends object, U extends object>(base: T, fields: U): Omit<T, keyof U> & U {
  return Object.assign({}, base, fields);
}
