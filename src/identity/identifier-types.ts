/**
 * Identifiers: the `(type, value)` pairs that identity resolution links into profiles. Four types
 * are built in; workspaces declare their own (`crm_id`, `shopify_id`…) in their settings.
 */

export interface Identifier {
  readonly type: string;
  readonly value: string;
}

export const BUILT_IN_IDENTIFIER_TYPES = ['user_id', 'anonymous_id', 'email', 'phone'] as const;
export type BuiltInIdentifierType = (typeof BUILT_IN_IDENTIFIER_TYPES)[number];

export function isBuiltInIdentifierType(type: string): type is BuiltInIdentifierType {
  return (BUILT_IN_IDENTIFIER_TYPES as readonly string[]).includes(type);
}

/**
 * Custom type names: lower-case, so that `context.externalIds[].type` (which Segment lower-cases)
 * and the settings agree; short, so they can be keys in storage and metrics.
 */
export const CUSTOM_TYPE_PATTERN = /^[a-z][a-z0-9_.]{0,63}$/;

export function isValidCustomTypeName(type: string): boolean {
  return CUSTOM_TYPE_PATTERN.test(type) && !isBuiltInIdentifierType(type);
}

/** A map key for an identifier; the NUL separator cannot occur in a type name. */
export function identifierKey(identifier: Identifier): string {
  return `${identifier.type}\u0000${identifier.value}`;
}

/**
 * The key identifiers are stored under: `type:value`. Unambiguous because type names never
 * contain `:`; values never contain NUL (refused by normalization), which PostgreSQL cannot store.
 */
export function storedIdentifierKey(identifier: Identifier): string {
  return `${identifier.type}:${identifier.value}`;
}

export function sameIdentifier(a: Identifier, b: Identifier): boolean {
  return a.type === b.type && a.value === b.value;
}

/** Total order by type then value (code units, locale-independent) for deterministic output. */
export function compareIdentifiers(a: Identifier, b: Identifier): number {
  return compareStrings(a.type, b.type) || compareStrings(a.value, b.value);
}

export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
