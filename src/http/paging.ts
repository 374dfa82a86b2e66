import { AppError } from '../errors/app-error.ts';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Cursors are opaque to clients: base64url of a small JSON position. */
export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AppError('request.invalid_cursor', 'the cursor is not one this API handed out');
}

export function cursorNumber(cursor: Record<string, unknown> | undefined, key: string): number | undefined {
  if (cursor === undefined) return undefined;
  const value = cursor[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new AppError('request.invalid_cursor', 'the cursor is not one this API handed out');
  return value;
}

export function cursorString(cursor: Record<string, unknown> | undefined, key: string): string | undefined {
  if (cursor === undefined) return undefined;
  const value = cursor[key];
  if (typeof value !== 'string')
    throw new AppError('request.invalid_cursor', 'the cursor is not one this API handed out');
  return value;
}

export function pageSize(limit: number | undefined): number {
  return Math.min(MAX_PAGE_SIZE, Math.max(1, limit ?? DEFAULT_PAGE_SIZE));
}

export interface PageOf<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

/** Fetch limit+1 rows, return limit, and a cursor only when more exist. */
export function toPage<T>(
  rows: T[],
  limit: number,
  cursorOf: (last: T) => Record<string, string | number>,
): PageOf<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null,
  };
}
