/**
 * Reads `keys` below `root` through own properties of plain objects only: an array, a string or
 * any other value on the way means "missing", and so does a key that is only inherited
 * (`constructor`, `__proto__`, `toString` of an object without such a key). The SQL compilers
 * follow the same rule (a text key never indexes an array).
 */
export function readPath(root: unknown, keys: readonly string[]): unknown {
  let current: unknown = root;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Own-property lookup of one key in a record keyed by user data. */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
