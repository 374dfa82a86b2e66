/** JSON values as they arrive from clients: plain data, never trusted to have a prototype. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Own-property read: `obj.__proto__` or `obj.constructor` on client data must read the client's
 * value (or nothing), never the prototype chain.
 */
export function ownField(obj: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}
