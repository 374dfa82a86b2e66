import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { acceptedEvents, payloadText } from '../../src/ingestion/accepted-batch.ts';
import {
  acceptMessages,
  acceptPrepared,
  parseRawBody,
  prepareBody,
  type EnvelopeBase,
  type IngestRoute,
} from '../../src/ingestion/decode-request.ts';
import { scanBody } from '../../src/ingestion/json-structure.ts';
import {
  isProblem,
  renderMessage,
  validateMessage,
  type MessageEnvelope,
} from '../../src/ingestion/normalize-message.ts';
import { PayloadWriter, spliceStoredMessage } from '../../src/ingestion/stored-payload.ts';

// The stored payload is spliced from the client's bytes (stored-payload.ts) instead of being
// serialized from the parsed object. These tests hold it to the general path's answer: the
// payload must parse to exactly the same JSON (same values, same key order), be byte for byte
// the same for canonical input, and every other answer (headers, errors) must be identical.

const RECEIVED = Date.parse('2026-11-29T12:00:00.000Z');
const BASE: EnvelopeBase = {
  workspaceId: 'ws',
  sourceId: 'src',
  receivedMs: RECEIVED,
  ip: '203.0.113.9',
  captureIp: true,
};
const envOf = (base: EnvelopeBase, extra: Partial<MessageEnvelope> = {}): MessageEnvelope => ({
  ...base,
  receivedAtIso: new Date(base.receivedMs).toISOString(),
  batchContext: undefined,
  batchIntegrations: undefined,
  batchSentAt: undefined,
  ...extra,
});
const BASES: Record<string, EnvelopeBase> = {
  'ip capture': BASE,
  'no ip capture': { ...BASE, ip: null, captureIp: false },
  'no request ip': { ...BASE, ip: null },
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** JSON text with the value order JSON.parse gives: equal texts mean equal parsed JSON. */
const canonical = (text: string): string => JSON.stringify(JSON.parse(text));

/** The payload the general path stores, with its generated messageId replaced by `messageId`. */
function sameIds(expected: string, generated: string, messageId: string): string {
  return generated === messageId
    ? expected
    : expected.split(JSON.stringify(generated)).join(JSON.stringify(messageId));
}

/** Splices one message (a single call's body) and compares it with the general path. */
function splice(text: string, env: MessageEnvelope, route?: 'track' | 'identify') {
  const bytes = Buffer.from(text);
  const structure = scanBody(bytes, false, 64);
  assert.ok(structure, `the scan should accept ${text}`);
  const v = validateMessage(JSON.parse(text), route, env);
  if (isProblem(v)) assert.fail(`${v.code}: ${v.message}`);
  const rendered = renderMessage(v, env);
  if (!rendered.ok) assert.fail(rendered.problem.message);
  const out = new PayloadWriter(16);
  const spliced = spliceStoredMessage(out, bytes, structure, 0, v, env);
  const payload = payloadText(out.bytes());
  return { spliced, payload, expected: rendered.event.payload };
}

function assertSameJson(payload: string, expected: string): void {
  assert.equal(canonical(payload), expected);
  assert.deepEqual(JSON.parse(payload), JSON.parse(expected));
}

const track = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'track',
  messageId: 'm-1',
  timestamp: '2026-11-29T11:59:58.000Z',
  anonymousId: 'a-1',
  userId: 'u-1',
  event: 'Product Viewed',
  properties: { price: 89.49, currency: 'EUR', tags: ['a', 'b'], nested: { deep: [1, { x: null }] } },
  context: { library: { name: 'analytics.js' }, ip: '192.0.2.1', locale: 'fr-FR' },
  ...extra,
});

describe('spliceStoredMessage', () => {
  const canonicalCases: [string, Record<string, unknown>][] = [
    ['a typical SDK message', track()],
    ['no context', track({ context: undefined })],
    ['an empty context', track({ context: {} })],
    ['a context without ip', track({ context: { locale: 'de' } })],
    ['a context whose ip is null', track({ context: { ip: null, locale: 'de' } })],
    ['a context whose ip is a number', track({ context: { ip: 7 } })],
    ['a null context', track({ context: null })],
    ['no messageId', track({ messageId: undefined })],
    ['a numeric messageId and userId', track({ messageId: 12345, userId: 42 })],
    ['an upper-case type', track({ type: 'Track' })],
    ['an empty userId', track({ userId: '' })],
    ['a null anonymousId', track({ anonymousId: null })],
    ['a timestamp without milliseconds', track({ timestamp: '2026-11-29T11:59:58Z' })],
    ['a timestamp with an offset', track({ timestamp: '2026-11-29T12:59:58+01:00' })],
    ['sentAt (clock skew)', track({ sentAt: '2026-11-29T12:00:05.000Z' })],
    ['originalTimestamp and timestamp', track({ originalTimestamp: '2026-11-29T11:00:00.000Z' })],
    ['no timestamp', track({ timestamp: undefined })],
    ['the client receivedAt', track({ receivedAt: '2020-01-01T00:00:00.000Z' })],
    ['writeKey first', { writeKey: 'wk_1', ...track() }],
    ['writeKey in the middle', track({ writeKey: 'wk_1', properties: {} })],
    ['writeKey last', track({ writeKey: 'wk_1' })],
    ['integrations', track({ integrations: { All: false, Mixpanel: true } })],
    ['integer-like keys', { '7': 'seven', ...track({ '1': 1, context: { '0': 'z', ip: 'x' } }) }],
    [
      '__proto__ keys',
      JSON.parse(
        `{"__proto__":{"a":1},"type":"track","userId":"u","event":"E","properties":{"__proto__":{"polluted":true}},"context":{"__proto__":null}}`,
      ) as Record<string, unknown>,
    ],
    [
      'non-ASCII text',
      track({ event: 'Café ✓ 😀', properties: { name: 'Zoë', line: 'a\u2028b', q: 'say "hi"\\' } }),
    ],
    ['large integers and decimals', track({ properties: { big: 2 ** 64, tiny: 0.000001, x: 0.1 } })],
    ['control characters', track({ properties: { text: 'tab\there\nnew\u0001line' } })],
  ];
  for (const [baseName, base] of Object.entries(BASES)) {
    for (const [name, message] of canonicalCases) {
      it(`is byte for byte the general path's payload: ${name} (${baseName})`, () => {
        const text = JSON.stringify(message);
        const env = envOf(base);
        const { spliced, payload, expected } = splice(text, env, 'track');
        assert.equal(spliced, true);
        const id = (JSON.parse(payload) as { messageId: string }).messageId;
        const want = sameIds(expected, (JSON.parse(expected) as { messageId: string }).messageId, id);
        if (name.includes('integer-like') || name.includes('__proto__')) assertSameJson(payload, want);
        else assert.equal(payload, want);
      });
    }
  }

  const batchEnvs: [string, Partial<MessageEnvelope>][] = [
    ['batch context', { batchContext: { locale: 'en', ip: '198.51.100.1', library: { name: 'x' } } }],
    ['batch integrations', { batchIntegrations: { All: true } }],
    ['batch sentAt', { batchSentAt: '2026-11-29T12:00:01.000Z' }],
  ];
  for (const [name, extra] of batchEnvs) {
    for (const message of [track(), track({ context: undefined, integrations: null })]) {
      it(`applies the ${name}`, () => {
        const { spliced, payload, expected } = splice(JSON.stringify(message), envOf(BASE, extra), 'track');
        assert.equal(spliced, true);
        assert.equal(payload, expected);
      });
    }
  }

  const oddCases: [string, string, boolean][] = [
    ['pretty-printed', JSON.stringify(track(), null, 2), true],
    [
      'spaces around every token',
      ` { "type" : "track" , "userId" : "u" , "event" : "E" , "context" : { } } `,
      true,
    ],
    [
      'escapes the serializer would not write',
      `{"type":"track","userId":"\\u0075","event":"\\u00e9\\/x","context":{"k":"\\ud83d\\ude00"}}`,
      true,
    ],
    [
      'a repeated untouched key',
      `{"type":"track","userId":"u","event":"E","properties":{"a":1},"properties":{"b":2}}`,
      true,
    ],
    [
      'a repeated key inside context',
      `{"type":"track","userId":"u","event":"E","context":{"ip":1,"ip":"9.9.9.9","ip":null}}`,
      true,
    ],
    ['a repeated enriched key', `{"type":"track","userId":"a","event":"E","userId":"b"}`, false],
    ['a repeated writeKey', `{"writeKey":"a","type":"track","userId":"a","event":"E","writeKey":"b"}`, false],
    ['an escaped top-level key', `{"type":"track","user\\u0049d":"a","event":"E"}`, false],
    [
      'a write key between two fields',
      `{"type":"track","userId":"u","writeKey":"k","event":"E","context":{}}`,
      true,
    ],
    [
      'a write key after an edited context',
      `{"type":"track","userId":"u","event":"E","context":{"a":1},"writeKey":"k"}`,
      true,
    ],
    [
      'a write key before an edited context',
      `{"writeKey":"k","context":{ },"type":"track","userId":"u","event":"E"}`,
      true,
    ],
    ['only a write key besides the call', `{"writeKey":"k","userId":"u","event":"E"}`, true],
    ['a number with an exponent', `{"type":"track","userId":"u","event":"E","properties":{"n":1e5}}`, false],
    ['an infinite number', `{"type":"track","userId":"u","event":"E","properties":{"n":1e400}}`, false],
    [
      'a 400-digit number',
      `{"type":"track","userId":"u","event":"E","properties":{"n":${'9'.repeat(400)}}}`,
      false,
    ],
    ['minus zero', `{"type":"track","userId":"u","event":"E","properties":{"n":-0}}`, false],
    ['a top-level minus zero', `{"type":"track","userId":"u","event":"E","n":-0.0}`, false],
    [
      'long numbers',
      `{"type":"track","userId":"u","event":"E","properties":{"n":12345678901234567890123,"d":0.1000000000000000055511151231257827}}`,
      true,
    ],
    ['trailing zeros', `{"type":"track","userId":"u","event":"E","properties":{"n":1.500,"m":100.0}}`, true],
    [
      'deep nesting',
      `{"type":"track","userId":"u","event":"E","properties":{"a":${'['.repeat(62)}${']'.repeat(62)}}}`,
      true,
    ],
  ];
  for (const [baseName, base] of Object.entries(BASES)) {
    for (const [name, text, spliceable] of oddCases) {
      it(`parses to the general path's payload: ${name} (${baseName})`, () => {
        const { spliced, payload, expected } = splice(text, envOf(base), 'track');
        assert.equal(spliced, spliceable);
        if (spliced) assertSameJson(payload, expected);
        else assert.equal(payload, '');
      });
    }
  }

  it('leaves messages near the 32 KB limit to the general path', () => {
    const small = splice(JSON.stringify(track({ properties: { b: 'x'.repeat(30_000) } })), envOf(BASE));
    assert.equal(small.spliced, true);
    const near = splice(JSON.stringify(track({ properties: { b: 'x'.repeat(31_800) } })), envOf(BASE));
    assert.equal(near.spliced, false);
  });
});

/** Both decode paths over one body: the result must be the same. */
function compareDecoding(body: Buffer, route: IngestRoute, base: EnvelopeBase, contentEncoding?: string) {
  const parsed = parseRawBody(body, contentEncoding);
  const general = parsed.ok ? acceptMessages(parsed.body, parsed.bytes, route, base) : parsed;
  const prepared = prepareBody(body, contentEncoding, route);
  const fast = prepared.ok ? acceptPrepared(prepared.prepared, base) : prepared;
  if (!general.ok) {
    assert.equal(fast.ok, false);
    assert.deepEqual(fast, general);
    return { scanned: prepared.ok && prepared.prepared.kind === 'scanned', accepted: 0 };
  }
  if (!fast.ok) assert.fail(`the fast path refused what the general path accepted: ${fast.message}`);
  const events = acceptedEvents(fast.batch);
  assert.equal(events.length, general.events.length);
  general.events.forEach((want, i) => {
    const got = events[i]!;
    const { payload, ...header } = got;
    const { payload: wantPayload, ...wantHeader } = want;
    const text = payloadText(payload);
    if (want.messageId !== got.messageId) {
      assert.match(want.messageId, UUID);
      assert.match(got.messageId, UUID);
      assert.deepEqual(header, { ...wantHeader, messageId: got.messageId });
    } else assert.deepEqual(header, wantHeader);
    assertSameJson(text, sameIds(payloadText(wantPayload), want.messageId, got.messageId));
  });
  return { scanned: prepared.ok && prepared.prepared.kind === 'scanned', accepted: events.length };
}

describe('decoding a request: the scanned path answers as the general path does', () => {
  const items = [track(), track({ type: 'identify', traits: { a: 1 } }), track({ messageId: undefined })];
  const bodies: [string, string, IngestRoute, boolean][] = [
    ['a batch', JSON.stringify({ batch: items }), 'batch', true],
    [
      'a pretty batch',
      JSON.stringify({ batch: items, sentAt: '2026-11-29T12:00:03.000Z' }, null, 2),
      'batch',
      true,
    ],
    [
      'batch-level fields',
      JSON.stringify({
        writeKey: 'wk',
        context: { locale: 'x' },
        integrations: { All: false },
        sentAt: '2026-11-29T12:00:03.000Z',
        extra: [1, { b: 2 }],
        batch: items,
      }),
      'batch',
      true,
    ],
    ['an empty batch', '{"batch":[]}', 'batch', true],
    ['an empty batch with spaces', ' { "batch" : [ ] } ', 'batch', true],
    ['a repeated batch key', JSON.stringify({ batch: items }).replace(/}$/, ',"batch":[]}'), 'batch', false],
    ['an escaped top-level key', `{"b\\u0061tch":${JSON.stringify(items)}}`, 'batch', false],
    ['a byte order mark', `\ufeff${JSON.stringify({ batch: items })}`, 'batch', false],
    ['a single call', JSON.stringify(track()), 'track', true],
    [
      'a single call with a nested batch key',
      JSON.stringify({ ...track(), batch: [{ writeKey: 'x' }] }),
      'track',
      true,
    ],
    ['a non-object item', JSON.stringify({ batch: [track(), 3, 'x'] }), 'batch', false],
    [
      'an invalid item',
      JSON.stringify({ batch: [track(), { type: 'track' }, { type: 'nope' }] }),
      'batch',
      true,
    ],
    ['invalid JSON inside an item', `{"batch":[{"type":"track","userId":"u","event":tru}]}`, 'batch', false],
    [
      'a bad escape inside an item',
      `{"batch":[{"type":"track","userId":"\\x","event":"E"}]}`,
      'batch',
      false,
    ],
    [
      'a raw control character',
      `{"batch":[{"type":"track","userId":"a\u0001","event":"E"}]}`,
      'batch',
      false,
    ],
    ['trailing garbage', `${JSON.stringify({ batch: items })}x`, 'batch', false],
    ['a trailing comma', `{"batch":[${JSON.stringify(track())},]}`, 'batch', false],
    ['a batch that is not an array', '{"batch":{"a":1}}', 'batch', false],
    ['no batch', '{"sentAt":"2026-11-29T12:00:03.000Z"}', 'batch', false],
    ['a body that is an array', '[1,2]', 'batch', false],
    ['an empty body', '   ', 'batch', false],
    [
      'nesting at the limit',
      `{"batch":[{"type":"track","userId":"u","event":"E","properties":{"a":${'['.repeat(60)}${']'.repeat(60)}}}]}`,
      'batch',
      true,
    ],
    [
      'nesting beyond the limit',
      `{"batch":[{"type":"track","userId":"u","event":"E","properties":{"a":${'['.repeat(61)}${']'.repeat(61)}}}]}`,
      'batch',
      false,
    ],
    [
      'a single call nested too deep',
      `{"type":"track","userId":"u","event":"E","p":${'{"a":'.repeat(64)}1${'}'.repeat(64)}}`,
      'track',
      false,
    ],
    [
      'a number with an exponent',
      JSON.stringify({ batch: [track({ properties: { n: 1e300 } })] }),
      'batch',
      true,
    ],
  ];
  for (const [name, text, route, scanned] of bodies) {
    it(name, () => {
      const result = compareDecoding(Buffer.from(text), route, BASE);
      assert.equal(result.scanned, scanned);
    });
  }

  it('invalid UTF-8 (stored with replacement characters, as before)', () => {
    const text = Buffer.from(JSON.stringify({ batch: [track({ event: 'XX' })] }));
    const at = text.indexOf('XX');
    text[at] = 0xff;
    text[at + 1] = 0xc3;
    assert.equal(compareDecoding(text, 'batch', BASE).scanned, false);
  });

  it('gzip bodies take the scanned path after inflating', () => {
    const body = gzipSync(Buffer.from(JSON.stringify({ batch: items })));
    assert.deepEqual(compareDecoding(body, 'batch', BASE, 'gzip'), { scanned: true, accepted: 3 });
  });

  it('batch limits answer as before', () => {
    const many = JSON.stringify({ batch: Array.from({ length: 2501 }, () => ({ type: 'track' })) });
    compareDecoding(Buffer.from(many), 'batch', BASE);
    const big = JSON.stringify({ batch: [track({ properties: { b: 'x'.repeat(520_000) } })] });
    compareDecoding(Buffer.from(big), 'batch', BASE);
    const oneBig = JSON.stringify(track({ properties: { b: 'x'.repeat(33_000) } }));
    compareDecoding(Buffer.from(oneBig), 'track', BASE);
    const nearLimit = JSON.stringify({ batch: [track({ properties: { b: 'x'.repeat(32_300) } })] });
    compareDecoding(Buffer.from(nearLimit), 'batch', BASE);
  });

  it('random messages (seeded)', () => {
    const random = seeded(20261129);
    let scanned = 0;
    for (let round = 0; round < 300; round++) {
      const batch = Array.from({ length: 1 + Math.floor(random() * 5) }, () => randomMessage(random));
      const top: Record<string, unknown> = { batch };
      if (random() < 0.3) top['context'] = randomValue(random, 2);
      if (random() < 0.2) top['integrations'] = { All: random() < 0.5 };
      if (random() < 0.2) top['sentAt'] = '2026-11-29T12:00:02.500Z';
      let text = JSON.stringify(top, null, random() < 0.3 ? 2 : undefined);
      if (random() < 0.2) text = text.replace(/"type":/, '"userId":7,"type":');
      for (const base of Object.values(BASES)) {
        if (compareDecoding(Buffer.from(text), 'batch', base).scanned) scanned++;
      }
    }
    assert.ok(scanned > 600, `most random bodies take the scanned path (${scanned})`);
  });
});

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = [
  'type',
  'userId',
  'anonymousId',
  'messageId',
  'context',
  'ip',
  'a',
  '1',
  '__proto__',
  'é',
  'integrations',
  'timestamp',
  'writeKey',
  'receivedAt',
  'sentAt',
];
const STRINGS = [
  '',
  'x',
  'Zoë',
  '😀',
  'quote " and \\ backslash',
  'line\nbreak',
  '2026-11-29T11:00:00Z',
  '\u2028',
];
const NUMBERS = [0, 1, -1, 1.5, 0.1, 1e21, 1e-7, 123456789, -2.5e-3, 2 ** 53 + 2];

function randomValue(random: () => number, depth: number): unknown {
  const r = random();
  if (depth <= 0 || r < 0.5) {
    const p = random();
    if (p < 0.4) return STRINGS[Math.floor(random() * STRINGS.length)];
    if (p < 0.75) return NUMBERS[Math.floor(random() * NUMBERS.length)];
    return p < 0.85 ? true : p < 0.95 ? null : false;
  }
  if (r < 0.75) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth - 1));
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(random() * 5); i > 0; i--) {
    object[KEYS[Math.floor(random() * KEYS.length)] as string] = randomValue(random, depth - 1);
  }
  return object;
}

function randomMessage(random: () => number): Record<string, unknown> {
  const message: Record<string, unknown> = {};
  const fields: [string, () => unknown][] = [
    ['type', () => (random() < 0.9 ? 'track' : 'Identify')],
    ['userId', () => (random() < 0.8 ? 'u-1' : 42)],
    ['anonymousId', () => (random() < 0.7 ? 'a-1' : null)],
    ['event', () => 'Event é'],
    ['messageId', () => `m-${Math.floor(random() * 1e9)}`],
    ['timestamp', () => (random() < 0.5 ? '2026-11-29T11:59:00.000Z' : '2026-11-29T12:59:00+01:00')],
    ['originalTimestamp', () => '2026-11-29T11:58:00.000Z'],
    ['sentAt', () => '2026-11-29T12:00:01.000Z'],
    ['context', () => (random() < 0.8 ? { ...(randomValue(random, 3) as object), locale: 'fr' } : null)],
    ['integrations', () => (random() < 0.8 ? { All: true } : null)],
    ['properties', () => ({ ...(randomValue(random, 4) as object) })],
    ['writeKey', () => 'wk'],
    ['receivedAt', () => 'client'],
    ['7', () => 'integer key'],
    ['__proto__', () => ({ polluted: true })],
  ];
  for (const [key, make] of fields) {
    if (key === 'type' || key === 'event' || random() < 0.5) {
      Object.defineProperty(message, key, {
        value: make(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return message;
}
