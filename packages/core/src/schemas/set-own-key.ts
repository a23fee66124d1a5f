/**
 * Sets `map[key]` as an own, enumerable key whatever the key is. Assignment of `__proto__` would hit
 * Object.prototype's setter instead: the key would vanish (while the request is answered 202) or, for
 * an object value, replace the prototype. Defined, it is a plain own key that JSON.stringify writes
 * like any other. Only that key is defined: maps without a prototype for every event or bucket would
 * cost the hot path, since V8 keeps them in dictionary mode (line protocol's points: ~0.5 µs a point
 * more, measured 2026-12-04).
 */
export function setOwnKey<T>(map: Record<string, T>, key: string, value: NoInfer<T>): void {
  if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  else map[key] = value;
}
