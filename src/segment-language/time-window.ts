import type { DateLiteral } from './literal.ts';
import { hasKind } from './node-kind.ts';

export type WindowUnit = 'minute' | 'hour' | 'day' | 'week' | 'month';

export interface AllTimeWindow {
  readonly kind: 'all_time';
}

export interface LastWindow {
  readonly kind: 'last';
  readonly amount: number;
  readonly unit: WindowUnit;
}

export interface SinceWindow {
  readonly kind: 'since';
  readonly date: DateLiteral;
}

export interface BetweenWindow {
  readonly kind: 'between';
  readonly from: DateLiteral;
  readonly to: DateLiteral;
}

export type TimeWindow = AllTimeWindow | LastWindow | SinceWindow | BetweenWindow;

const DAY_MS = 86_400_000;

/**
 * Units are fixed durations so that the in-memory evaluator, SQLite and PostgreSQL agree to the
 * millisecond; in particular a month is 30 days, not a calendar month.
 */
export const WINDOW_UNIT_MS: Readonly<Record<WindowUnit, number>> = Object.freeze({
  minute: 60_000,
  hour: 3_600_000,
  day: DAY_MS,
  week: 7 * DAY_MS,
  month: 30 * DAY_MS,
});

export function createAllTimeWindow(): AllTimeWindow {
  return Object.freeze({ kind: 'all_time' });
}

export function createLastWindow(amount: number, unit: WindowUnit): LastWindow {
  return Object.freeze({ kind: 'last', amount: amount === 0 ? 0 : amount, unit });
}

export function createSinceWindow(date: DateLiteral): SinceWindow {
  return Object.freeze({ kind: 'since', date });
}

export function createBetweenWindow(from: DateLiteral, to: DateLiteral): BetweenWindow {
  return Object.freeze({ kind: 'between', from, to });
}

export function isAllTimeWindow(value: unknown): value is AllTimeWindow {
  return hasKind(value, 'all_time');
}

export function isLastWindow(value: unknown): value is LastWindow {
  return hasKind(value, 'last');
}

export function isSinceWindow(value: unknown): value is SinceWindow {
  return hasKind(value, 'since');
}

export function isBetweenWindow(value: unknown): value is BetweenWindow {
  return hasKind(value, 'between');
}

export function isTimeWindow(value: unknown): value is TimeWindow {
  return isAllTimeWindow(value) || isLastWindow(value) || isSinceWindow(value) || isBetweenWindow(value);
}

/** Half-open interval [fromMs, toMs) of event timestamps; null means unbounded on that side. */
export interface ResolvedWindow {
  readonly fromMs: number | null;
  readonly toMs: number | null;
}

/**
 * The one definition of what a window covers, for every evaluator to share. `between` includes
 * the whole day of a date-only end (`between 2026-01-01 and 2026-01-31` is all of January) and
 * excludes a timestamp end.
 */
export function resolveWindow(window: TimeWindow, nowMs: number): ResolvedWindow {
  switch (window.kind) {
    case 'all_time':
      return { fromMs: null, toMs: null };
    case 'last':
      return { fromMs: nowMs - window.amount * WINDOW_UNIT_MS[window.unit], toMs: null };
    case 'since':
      return { fromMs: window.date.epochMs, toMs: null };
    case 'between':
      return {
        fromMs: window.from.epochMs,
        toMs: window.to.dateOnly ? window.to.epochMs + DAY_MS : window.to.epochMs,
      };
  }
}
