import { frozenCopy, hasKind } from './node-kind.ts';

/**
 * A reference to a value: a root (`traits`, `properties`, `event`, …) and the keys below it.
 * Keys are kept as an array, never joined with dots, so a key containing a dot stays one key and
 * no object is ever keyed by user input.
 */
export interface PathNode {
  readonly kind: 'path';
  readonly root: string;
  readonly keys: readonly string[];
}

/** Keys matching this print bare (`traits.plan`); every other key prints quoted (`traits."first name"`). */
export const BARE_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function createPath(root: string, keys: readonly string[] = []): PathNode {
  return Object.freeze({ kind: 'path', root, keys: frozenCopy(keys) });
}

export function isPath(value: unknown): value is PathNode {
  return hasKind(value, 'path');
}
