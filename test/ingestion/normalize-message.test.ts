import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exceedsNesting } from '../../src/ingestion/decode-request.ts';
import { normalizeMessage, type MessageEnvelope } from '../../src/ingestion/normalize-message.ts';
import { resolveTimestamp } from '../../src/ingestion/timestamps.ts';

const RECEIVED = Date.parse('2026-11-29T12:00:00.000Z');
const env: MessageEnvelope = {
  workspaceId: 'ws',
  sourceId: 'src',
  receivedMs: RECEIVED,
  receivedAtIso: new Date(RECEIVED).toISOString(),
  ip: '203.0.113.9',
  captureIp: true,
  batchContext: undefined,
  batchIntegrations: undefined,
  batchSentAt: undefined,
};

function ok(raw: unknown, type?: Parameters<typeof normalizeMessage>[1], envelope: MessageEnvelope = env) {
  const result = normalizeMessage(raw, type, envelope);
  if (!result.ok) assert.fail(`expected ok, got ${result.problem.code}: ${result.problem.message}`);
  return { event: result.event, message: JSON.parse(result.event.payload) as Record<string, unknown> };
}

function problem(raw: unknown, type?: Parameters<typeof normalizeMessage>[1]) {
  const result = normalizeMessage(raw, type, env);
  if (result.ok) assert.fail('expected a problem');
  return result.problem.code;
}

describe('normalizeMessage', () => {
  const required: [string, unknown, string | undefined, string][] = [
    ['no ids', { event: 'E' }, 'track', 'ingest.missing_identity'],
    ['track without event', { userId: 'u' }, 'track', 'ingest.missing_field'],
    ['track with blank event', { userId: 'u', event: '  ' }, 'track', 'ingest.missing_field'],
    ['group without groupId', { userId: 'u' }, 'group', 'ingest.missing_field'],
    ['alias without previousId', { userId: 'u' }, 'alias', 'ingest.missing_field'],
    ['alias without userId', { previousId: 'a', anonymousId: 'x' }, 'alias', 'ingest.missing_field'],
    ['unknown type', { type: 'purchase', userId: 'u' }, undefined, 'ingest.unknown_type'],
    ['missing type in batch', { userId: 'u' }, undefined, 'ingest.unknown_type'],
    ['userId object', { userId: { a: 1 }, event: 'E' }, 'track', 'ingest.invalid_field'],
    ['properties array', { userId: 'u', event: 'E', properties: [1] }, 'track', 'ingest.invalid_field'],
    ['traits string', { userId: 'u', traits: 'x' }, 'identify', 'ingest.invalid_field'],
    ['context number', { userId: 'u', context: 3 }, 'identify', 'ingest.invalid_field'],
    ['bad timestamp', { userId: 'u', timestamp: 'yesterday' }, 'identify', 'ingest.invalid_field'],
    ['numeric timestamp', { userId: 'u', timestamp: 1 }, 'identify', 'ingest.invalid_field'],
    ['bad sentAt', { userId: 'u', sentAt: '2026-13-45' }, 'identify', 'ingest.invalid_field'],
    ['page name number', { userId: 'u', name: 5 }, 'page', 'ingest.invalid_field'],
    ['huge id', { userId: 'u'.repeat(2000) }, 'identify', 'ingest.invalid_field'],
    ['not an object', ['x'], 'identify', 'request.invalid_body'],
    [
      'too large',
      { userId: 'u', event: 'E', properties: { blob: 'x'.repeat(33 * 1024) } },
      'track',
      'ingest.event_too_large',
    ],
  ];
  for (const [name, raw, type, code] of required) {
    it(`rejects ${name} with ${code}`, () => assert.equal(problem(raw, type as never), code));
  }

  it('accepts the minimal form of each call', () => {
    assert.equal(ok({ userId: 'u' }, 'identify').event.type, 'identify');
    assert.equal(ok({ anonymousId: 'a', event: 'E' }, 'track').event.event, 'E');
    assert.equal(ok({ anonymousId: 'a', name: 'Home' }, 'page').event.event, 'Home');
    assert.equal(ok({ anonymousId: 'a' }, 'screen').event.event, null);
    assert.equal(ok({ userId: 'u', groupId: 42 }, 'group').event.type, 'group');
    assert.equal(ok({ userId: 'u', previousId: 'a' }, 'alias').event.anonymousId, null);
    assert.equal(ok({ type: 'TRACK', userId: 'u', event: 'E' }).event.type, 'track');
  });

  it('coerces numeric ids and keeps a client messageId', () => {
    const { event, message } = ok({ userId: 42, anonymousId: 7, messageId: 'm-1', event: 'E' }, 'track');
    assert.equal(event.userId, '42');
    assert.equal(event.anonymousId, '7');
    assert.equal(message['userId'], '42');
    assert.equal(event.messageId, 'm-1');
  });

  it('generates a UUID messageId when absent', () => {
    const { event } = ok({ userId: 'u' }, 'identify');
    assert.match(event.messageId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('corrects clock skew: timestamp = receivedAt − (sentAt − originalTimestamp)', () => {
    // The device clock is 1 h fast; the call happened 5 s before the flush.
    const { event, message } = ok(
      { userId: 'u', timestamp: '2026-11-29T13:00:00.000Z', sentAt: '2026-11-29T13:00:05.000Z' },
      'identify',
    );
    assert.equal(message['timestamp'], '2026-11-29T11:59:55.000Z');
    assert.equal(message['originalTimestamp'], '2026-11-29T13:00:00.000Z');
    assert.equal(message['receivedAt'], '2026-11-29T12:00:00.000Z');
    assert.equal(event.timestampMs, RECEIVED - 5000);
  });

  it('keeps a given timestamp without sentAt (historical import), and uses receivedAt without any', () => {
    assert.equal(
      ok({ userId: 'u', timestamp: '2020-01-01T00:00:00Z' }, 'identify').message['timestamp'],
      '2020-01-01T00:00:00.000Z',
    );
    assert.equal(ok({ userId: 'u' }, 'identify').message['timestamp'], '2026-11-29T12:00:00.000Z');
    assert.deepEqual(resolveTimestamp(100, undefined, 50), {
      timestampMs: 100,
      originalTimestampMs: undefined,
    });
  });

  it('applies batch-level sentAt, context and integrations, the item winning', () => {
    const envelope = {
      ...env,
      batchSentAt: '2026-11-29T12:00:10.000Z',
      batchContext: { library: { name: 'batch' }, locale: 'fr-FR' },
      batchIntegrations: { All: false },
    };
    const { message } = ok(
      {
        type: 'track',
        userId: 'u',
        event: 'E',
        timestamp: '2026-11-29T12:00:00.000Z',
        context: { locale: 'de-DE' },
      },
      undefined,
      envelope,
    );
    assert.equal(message['timestamp'], '2026-11-29T11:59:50.000Z');
    assert.deepEqual(message['context'], { library: { name: 'batch' }, locale: 'de-DE', ip: '203.0.113.9' });
    assert.deepEqual(message['integrations'], { All: false });
  });

  it('adds the request IP unless the client sent one, and strips IPs when capture is off', () => {
    assert.equal(
      (ok({ userId: 'u', context: { ip: '198.51.100.1' } }, 'identify').message['context'] as { ip: string })
        .ip,
      '198.51.100.1',
    );
    const off = { ...env, ip: null, captureIp: false };
    assert.deepEqual(
      ok({ userId: 'u', context: { ip: '198.51.100.1', locale: 'x' } }, 'identify', off).message['context'],
      { locale: 'x' },
    );
  });

  it('never stores the write key and keeps unknown fields and integrations', () => {
    const { message } = ok(
      { userId: 'u', event: 'E', writeKey: 'wk_secret', integrations: { Mixpanel: false }, custom: 1 },
      'track',
    );
    assert.equal('writeKey' in message, false);
    assert.deepEqual(message['integrations'], { Mixpanel: false });
    assert.equal(message['custom'], 1);
  });

  it('treats __proto__ and constructor as plain data', () => {
    const raw: unknown = JSON.parse(
      '{"userId":"u","event":"E","__proto__":{"polluted":true},"properties":{"constructor":{"prototype":{"x":1}},"__proto__":{"y":2}}}',
    );
    const { message } = ok(raw, 'track');
    assert.deepEqual(Object.keys(message['properties'] as object).sort(), ['__proto__', 'constructor']);
    assert.equal(Object.getPrototypeOf(message), Object.prototype);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.ok(Object.hasOwn(message, '__proto__'));
  });
});

describe('exceedsNesting', () => {
  const cases: [string, number, boolean][] = [
    ['{"a":{"b":[1,2,{"c":3}]}}', 4, false],
    ['{"a":{"b":[1,2,{"c":3}]}}', 3, true],
    ['{"a":"{{{{{{[[[[["}', 1, false],
    ['{"a":"quote \\" {{{{ still a string"}', 1, false],
    ['{"a":"backslash at end \\\\"}', 1, false],
    ['{"a":"\\\\\\"{{{{"}', 1, false],
    ['{"a":"x"}' + '[', 1, false],
    ['[[[[[[', 5, true],
    ['{"unterminated', 1, false],
  ];
  for (const [text, limit, expected] of cases) {
    it(`${JSON.stringify(text)} at limit ${limit} → ${expected}`, () =>
      assert.equal(exceedsNesting(text, limit), expected));
  }
});
