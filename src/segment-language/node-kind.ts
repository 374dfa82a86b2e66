/** Shared helpers for the tagged, frozen AST nodes. Internal: not exported from the package. */
export function hasKind<K extends string>(value: unknown, kind: K): value is { readonly kind: K } {
  return typeof value === 'object' && value !== null && (value as { readonly kind?: unknown }).kind === kind;
}

/** Copies and freezes an array so callers cannot mutate a node through the array they passed in. */
export function frozenCopy<T extends readonly unknown[]>(items: T): T {
  return Object.freeze([...items]) as unknown as T;
}
