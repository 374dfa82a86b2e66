import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import type { SendOptions } from '../support/http-helpers.ts';

// The table of bad requests for tracking-bad-input.test.ts: each gets a 4xx with
// {"error":{"code","message"}} and writes nothing.

export const KB = 1024;
export const item = (i: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'track',
  userId: 'u-bad',
  event: 'Bad Input',
  messageId: `bad-${i}`,
  ...extra,
});

/** JSON text of exactly `size` bytes, padding the string given to `build`. */
export function jsonOfSize(size: number, build: (filler: string) => unknown): string {
  const base = Buffer.byteLength(JSON.stringify(build('')));
  const text = JSON.stringify(build('x'.repeat(size - base)));
  assert.equal(Buffer.byteLength(text), size);
  return text;
}

/** A batch of valid items, each under 32 KB, whose body is exactly `size` bytes. */
export const batchOfSize = (size: number, idPrefix = 'bad'): string =>
  jsonOfSize(size, (filler) => ({
    batch: Array.from({ length: 17 }, (_, i) =>
      item(i, {
        messageId: `${idPrefix}-${i}`,
        properties: { blob: 'b'.repeat(30_000) + (i === 16 ? filler : '') },
      }),
    ),
  }));

/** One complete track message (type, ids, messageId, context) whose JSON is exactly `size` bytes. */
const oneEventOf = (size: number): string =>
  jsonOfSize(size, (blob) => ({
    ...item(0),
    context: { ip: '1.2.3.4' },
    timestamp: '2026-01-01T00:00:00.000Z',
    properties: { blob },
  }));

/** A track whose properties nest `depth` arrays deep. */
const nested = (depth: number): string =>
  `{"type":"track","userId":"u","event":"E","properties":{"d":${'['.repeat(depth)}${']'.repeat(depth)}}}`;

let bomb: Buffer | undefined;
/** 50 MB of zeros, gzipped to about 50 KB. */
export const gzipBomb = (): Buffer => (bomb ??= gzipSync(Buffer.alloc(50 * KB * KB), { level: 9 }));

export interface BadCase {
  readonly name: string;
  readonly route: string;
  readonly body: () => unknown;
  readonly options?: SendOptions;
  readonly status: number;
  /** undefined: any code, as long as the error shape is right. */
  readonly code: string | undefined;
  /** Batch indexes the error must list in `error.rejected`. */
  readonly rejected?: readonly number[];
  /** The error message must match (what says which check refused it). */
  readonly message?: RegExp;
  readonly todo?: string;
}

export const gzip = { 'content-encoding': 'gzip', 'content-type': 'application/json' };

/** One row of the table: route, body, expected status and code. */
const bad = (
  name: string,
  route: string,
  body: () => unknown,
  status: number,
  code: string | undefined,
  extra: Partial<BadCase> = {},
): BadCase => ({ name, route, body, status, code, ...extra });

const NOT_OBJECTS = ['[]', '[{"type":"track","userId":"u","event":"E"}]', '"track"', '42', 'null', 'true'];
const BAD_TIMES = [
  'yesterday',
  '2026-13-01T00:00:00Z',
  '2026-01-01T25:00:00Z',
  '15/01/2026',
  '',
  1768478400000,
];
const UNKNOWN_TYPES = [{ type: 'purchase' }, { type: 'batch' }, { type: 42 }, {}];

export const CASES: readonly BadCase[] = [
  // Not JSON, or not a JSON object
  bad('malformed JSON', 'track', () => '{"userId":"u","event":', 400, 'request.invalid_json'),
  bad('malformed JSON in a batch', 'batch', () => '{"batch":[{]}', 400, 'request.invalid_json'),
  bad('an empty body', 'track', () => '', 400, 'request.invalid_json'),
  ...NOT_OBJECTS.flatMap((text) =>
    ['track', 'batch'].map((route) =>
      bad(
        `a body that is not an object: ${text.slice(0, 12)} (/v1/${route})`,
        route,
        () => text,
        400,
        'request.invalid_body',
      ),
    ),
  ),
  bad(
    '"batch" that is not an array',
    'batch',
    () => ({ batch: { 0: item(0) } }),
    400,
    'request.invalid_body',
  ),
  bad(
    'a batch item that is not an object',
    'batch',
    () => ({ batch: [item(0), 7] }),
    400,
    'request.invalid_body',
    {
      rejected: [1],
    },
  ),
  // Segment's required fields
  bad('missing ids (track)', 'track', () => ({ event: 'E' }), 400, 'ingest.missing_identity'),
  bad(
    'missing ids (empty string, null)',
    'identify',
    () => ({ userId: '', anonymousId: null }),
    400,
    'ingest.missing_identity',
  ),
  bad(
    'missing ids in a batch item',
    'batch',
    () => ({ batch: [{ type: 'page', name: 'Home' }] }),
    400,
    'ingest.missing_identity',
    {
      rejected: [0],
    },
  ),
  bad('a track without event', 'track', () => ({ userId: 'u', properties: {} }), 400, 'ingest.missing_field'),
  bad(
    'a track with a blank event',
    'track',
    () => ({ userId: 'u', event: '  ' }),
    400,
    'ingest.missing_field',
  ),
  bad(
    'a track whose event is an object',
    'track',
    () => ({ userId: 'u', event: { n: 'E' } }),
    400,
    'ingest.missing_field',
  ),
  bad('a group without groupId', 'group', () => ({ userId: 'u', traits: {} }), 400, 'ingest.missing_field'),
  bad('an alias without previousId', 'alias', () => ({ userId: 'u' }), 400, 'ingest.missing_field'),
  bad(
    'an alias without userId',
    'alias',
    () => ({ previousId: 'a-1', anonymousId: 'a-1' }),
    400,
    'ingest.missing_field',
  ),
  // Wrong types
  bad('a userId that is an object', 'identify', () => ({ userId: { id: 1 } }), 400, 'ingest.invalid_field'),
  bad(
    'a userId over 1024 characters',
    'identify',
    () => ({ userId: 'u'.repeat(1025) }),
    400,
    'ingest.invalid_field',
  ),
  bad(
    'properties that are an array',
    'track',
    () => ({ userId: 'u', event: 'E', properties: [1] }),
    400,
    'ingest.invalid_field',
  ),
  bad(
    'traits that are a string',
    'identify',
    () => ({ userId: 'u', traits: 'vip' }),
    400,
    'ingest.invalid_field',
  ),
  bad(
    'context that is a string',
    'track',
    () => ({ userId: 'u', event: 'E', context: 'web' }),
    400,
    'ingest.invalid_field',
  ),
  bad(
    'a page name that is a number',
    'page',
    () => ({ userId: 'u', name: 404 }),
    400,
    'ingest.invalid_field',
  ),
  // Unknown types
  ...UNKNOWN_TYPES.map((type) =>
    bad(
      `an unknown type in a batch: ${JSON.stringify(type)}`,
      'batch',
      () => ({ batch: [item(0), { userId: 'u', event: 'E', ...type }] }),
      400,
      'ingest.unknown_type',
      {
        rejected: [1],
      },
    ),
  ),
  // Invalid timestamps
  ...BAD_TIMES.flatMap((value) =>
    ['timestamp', 'originalTimestamp', 'sentAt'].map((field) =>
      bad(
        `an invalid ${field}: ${JSON.stringify(value)}`,
        'track',
        () => ({ userId: 'u', event: 'E', [field]: value }),
        400,
        'ingest.invalid_field',
      ),
    ),
  ),
  bad(
    'an invalid batch-level sentAt',
    'batch',
    () => ({ sentAt: 'soon', batch: [item(0)] }),
    400,
    'ingest.invalid_field',
    {
      rejected: [0],
    },
  ),
  bad(
    'an impossible date (February 30th)',
    'track',
    () => ({ userId: 'u', event: 'E', timestamp: '2026-02-30T10:00:00Z' }),
    400,
    'ingest.invalid_field',
    {},
  ),
  bad('deeply nested JSON (5,000 levels in 10 KB)', 'track', () => nested(5000), 400, undefined, {}),
  bad(
    'deeply nested JSON in a batch (100,000 levels)',
    'batch',
    () => `{"batch":[${nested(100_000)}]}`,
    400,
    undefined,
    {},
  ),
  // Sizes and counts
  bad(
    'a 33 KB event',
    'track',
    () => jsonOfSize(33 * KB, (blob) => ({ userId: 'u', event: 'E', properties: { blob } })),
    413,
    'ingest.event_too_large',
  ),
  bad(
    'a 33 KB event inside a batch',
    'batch',
    () => ({ batch: [item(0), item(1, { properties: { blob: 'x'.repeat(33 * KB) } })] }),
    413,
    'ingest.event_too_large',
    {
      rejected: [1],
    },
  ),
  bad('an event of 32 KB + 1 byte', 'track', () => oneEventOf(32 * KB + 1), 413, 'ingest.event_too_large'),
  bad(
    'a batch item of 32 KB + 1 byte',
    'batch',
    () => `{"batch":[${oneEventOf(32 * KB + 1)}]}`,
    413,
    'ingest.event_too_large',
    {
      rejected: [0],
    },
  ),
  bad('a 501 KB batch', 'batch', () => batchOfSize(501 * KB), 413, 'ingest.batch_too_large'),
  bad('a 1.5 MB body', 'batch', () => batchOfSize(1536 * KB), 413, 'request.too_large'),
  bad(
    '2,501 events in a batch',
    'batch',
    () => ({ batch: Array.from({ length: 2501 }, (_, i) => item(i)) }),
    400,
    'ingest.batch_too_many_events',
  ),
  // Encodings
  bad('broken gzip', 'track', () => Buffer.from('this is not gzip'), 400, 'request.invalid_gzip', {
    options: { headers: gzip },
  }),
  bad(
    'truncated gzip',
    'track',
    () => gzipSync(JSON.stringify(item(0))).subarray(0, 20),
    400,
    'request.invalid_gzip',
    {
      options: { headers: gzip },
    },
  ),
  bad('gzip of invalid JSON', 'track', () => gzipSync('{"userId":'), 400, 'request.invalid_json', {
    options: { headers: gzip },
  }),
  // Refused by the capped inflate itself (its own message), not after inflating 50 MB: the
  // cap is what keeps a bomb from allocating; a timing bound would only measure the machine.
  bad('a gzip bomb (50 MB of zeros)', 'batch', gzipBomb, 413, 'request.too_large', {
    options: { headers: gzip },
    message: /^the decompressed body exceeds 512000 bytes$/,
  }),
  bad('a gzipped 600 KB batch', 'batch', () => gzipSync(batchOfSize(600 * KB)), 413, 'request.too_large', {
    options: { headers: gzip },
  }),
  ...['br', 'deflate', 'compress', 'gzip, br'].map((encoding) =>
    bad(
      `Content-Encoding: ${encoding}`,
      'track',
      () => JSON.stringify(item(0)),
      415,
      'request.unsupported_encoding',
      {
        options: { headers: { 'content-encoding': encoding } },
      },
    ),
  ),
];
