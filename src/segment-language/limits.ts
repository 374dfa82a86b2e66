/**
 * Bounds on what a definition may contain. They protect the parser (stack depth), the storage
 * (size) and the SQL compiler (query size) from hostile or accidental giant inputs.
 */
export interface SegmentLimits {
  /** Source size in UTF-8 bytes. */
  readonly maxSourceBytes: number;
  /** Nesting of `(`, `not` and `where (`; see README "Nesting". */
  readonly maxNesting: number;
  readonly maxListLength: number;
  /** Length of one string value, in UTF-16 code units after unescaping. */
  readonly maxStringLength: number;
  /** Keys after the root, as in `traits.a.b.c` (3). */
  readonly maxPathKeys: number;
  /** Largest `n` in `at least n times`. */
  readonly maxCount: number;
  /** Longest `in last …` window, in days (months count as 30 days). */
  readonly maxWindowDays: number;
  /**
   * Distinct things a definition reads besides the profile's traits: `did` conditions, computed
   * traits, consent categories and `in segment` references. Each is one join of the compiled
   * query, and SQLite joins at most 64 tables.
   */
  readonly maxReads: number;
}

export const DEFAULT_SEGMENT_LIMITS: SegmentLimits = Object.freeze({
  maxSourceBytes: 64 * 1024,
  maxNesting: 64,
  maxListLength: 1000,
  maxStringLength: 1000,
  maxPathKeys: 16,
  maxCount: 1_000_000,
  // Ten years, rounded up so that "120 months" and "521 weeks" still fit.
  maxWindowDays: 3660,
  maxReads: 48,
});

export function resolveLimits(overrides: Partial<SegmentLimits> | undefined): SegmentLimits {
  return overrides === undefined
    ? DEFAULT_SEGMENT_LIMITS
    : Object.freeze({ ...DEFAULT_SEGMENT_LIMITS, ...overrides });
}

/** UTF-8 size of `text` without allocating an encoded copy (the text may be hostile and huge). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
