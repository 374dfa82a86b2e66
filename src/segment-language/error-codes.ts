/**
 * The segment language's error catalogue. Codes are stable strings that clients match on, so a
 * code is never renamed or reused; the summaries feed the README and API error documentation.
 */
export const SEGMENT_ERROR_CATALOGUE = Object.freeze({
  'segment.parse_error': 'The text does not follow the grammar; the error says where and what was expected.',
  'segment.too_large': 'The definition is longer than the maximum source size.',
  'segment.too_deep': 'Parentheses, `not` and `where` clauses are nested deeper than allowed.',
  'segment.list_too_long': 'An `in (…)` list has more values than allowed.',
  'segment.string_too_long': 'A quoted string is longer than allowed.',
  'segment.invalid_string':
    'A string holds a lone UTF-16 surrogate (such as `\\ud83d` without its pair), which is no character.',
  'segment.invalid_number': 'A number is out of the range of a double (for example 1e999).',
  'segment.invalid_date': 'A date or timestamp does not exist or has no time zone.',
  'segment.not_allowed': '`did` or `in segment` used where only conditions on one event are allowed.',
  'segment.unknown_root': 'A path starts with a root that this kind of expression cannot read.',
  'segment.invalid_path': 'A path has the wrong number of keys for its root, or an empty key.',
  'segment.type_mismatch': 'An operator is used with a value of a type it cannot compare.',
  'segment.invalid_count': 'A `did … times` count is not a whole number within bounds.',
  'segment.invalid_window': 'A time window is empty, not a whole positive amount, or too long.',
  'segment.empty_name': 'An event name or segment slug is the empty string.',
  'segment.unknown_segment': '`in segment` names a segment that does not exist.',
  'segment.unknown_computed': 'A `computed.` path names a computed trait that does not exist.',
  'segment.unknown_consent_category': 'A `consent.` path names a consent category that is not configured.',
  'segment.too_many_reads':
    'The definition reads more distinct events, computed traits, consent categories and segments than allowed.',
  'segment.cycle': 'Segments reference each other in a loop through `in segment`.',
  'segment.trivial_count': 'Warning: a count that is always true, such as `at least 0 times`.',
} as const);

export type SegmentErrorCode = keyof typeof SEGMENT_ERROR_CATALOGUE;
