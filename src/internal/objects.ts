/**
 * A copy of `base` with `fields` set, the same as `{ ...base, ...fields }` (keys already in
 * `base` keep their place, so JSON bodies serialise in the same order).
 *
 * For the request path only: on Node 20 (V8 11.3) adding properties to a spread copy,
 * `{ ...base, model }`, leaves the fast object-clone path and costs about 0.5 µs, against
 * 0.08 µs for `Object.assign`. A proxied request made a handful of them.
 */
export function withFields<T extends object, U extends object>(base: T, fields: U): Omit<T, keyof U> & U {
  // Object.assign would make an own `__proto__` key (JSON.parse creates one) the copy's
  // prototype, where a spread copies it as data: such an object takes the spread.
  if (Object.hasOwn(base, '__proto__')) return { ...base, ...fields };
  return Object.assign({}, base, fields);
}
