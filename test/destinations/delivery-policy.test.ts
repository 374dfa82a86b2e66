import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  consentAllows,
  DEFAULT_RETRY_POLICY,
  routeEvent,
  settle,
  type PersonFacts,
} from '../../src/destinations/delivery-policy.ts';
import { readDestinationDraft } from '../../src/destinations/destination-definition.ts';
import { eventPassesFilter } from '../../src/destinations/event-filter.ts';
import { batchesOf, signBody, webhookRequest } from '../../src/destinations/webhook-request.ts';
import { analyzeEventFilter } from '../../src/segment-language/index.ts';
import { createHmac } from 'node:crypto';

const filter = (text: string) => {
  const analysis = analyzeEventFilter(text);
  assert.ok(analysis.ok, text);
  return analysis.ast;
};

const person = (consent: Record<string, boolean>, segments: string[] = []): PersonFacts => ({
  profileId: 'p1',
  segments: () => new Set(segments),
  consent: () => new Map(Object.entries(consent)),
});

it('evaluates event filters on every root, with the segment language comparison rules', () => {
  const message = {
    type: 'track',
    event: 'Order Completed',
    userId: 'u1',
    properties: { total: 42, currency: 'EUR', tags: ['gift'] },
    context: { page: { path: '/checkout' }, traits: { plan: 'pro' } },
  };
  const cases: [string, boolean][] = [
    ['type = "track"', true],
    ['event = "Order Completed" and properties.total >= 42', true],
    ['properties.total > 42', false],
    ['properties.currency in ("USD", "EUR")', true],
    ['properties.tags contains "gift"', true],
    ['context.page.path starts_with "/check"', true],
    ['traits.plan = "pro"', true],
    ['userId = "u2"', false],
    ['anonymousId exists', false],
    ['not anonymousId exists', true],
    ['properties.missing = "x"', false],
    ['properties.total = "42"', false],
    ['properties."__proto__" exists', false],
  ];
  for (const [text, expected] of cases)
    assert.equal(eventPassesFilter(message, filter(text)), expected, text);
  // An identify's own traits come before context.traits.
  assert.equal(
    eventPassesFilter(
      { type: 'identify', traits: { plan: 'free' }, context: { traits: { plan: 'pro' } } },
      filter('traits.plan = "free"'),
    ),
    true,
  );
});

it('routes by filter, then segments (audience events of synced segments pass), then opt-in consent', () => {
  const d = (segments: string[], consentCategories: string[]) => ({
    name: 'CRM hook',
    segments,
    consentCategories,
  });
  const track = { type: 'track', event: 'Viewed' };
  const exited = { type: 'track', event: 'Audience Exited', properties: { audience_key: 'vip' } };
  assert.deepEqual(routeEvent(d([], []), null, track, person({})), { deliver: true });
  assert.deepEqual(routeEvent(d([], []), filter('event = "Bought"'), track, person({})), {
    deliver: false,
    reason: 'filter',
  });
  assert.deepEqual(routeEvent(d(['vip'], []), null, track, person({})), {
    deliver: false,
    reason: 'segments',
  });
  assert.deepEqual(routeEvent(d(['vip'], []), null, track, person({}, ['vip'])), { deliver: true });
  assert.deepEqual(routeEvent(d(['vip'], []), null, exited, person({})), { deliver: true });
  assert.deepEqual(routeEvent(d(['other'], []), null, exited, person({})), {
    deliver: false,
    reason: 'segments',
  });
  assert.deepEqual(routeEvent(d([], ['marketing']), null, track, person({})), {
    deliver: false,
    reason: 'consent',
  });
  assert.deepEqual(routeEvent(d([], ['marketing']), null, track, person({ marketing: false })), {
    deliver: false,
    reason: 'consent',
  });
  assert.deepEqual(
    routeEvent(d([], ['marketing', 'advertising']), null, track, person({ marketing: true })),
    {
      deliver: false,
      reason: 'consent',
    },
  );
  assert.deepEqual(routeEvent(d([], ['marketing']), null, track, person({ marketing: true })), {
    deliver: true,
  });
  assert.deepEqual(
    routeEvent(d([], ['marketing']), null, track, { ...person({ marketing: true }), profileId: null }),
    {
      deliver: false,
      reason: 'no_profile',
    },
  );
  assert.equal(consentAllows([], new Map()), true);
  // Segment's integrations object: a destination's own entry wins over All; only false turns off.
  const withIntegrations = (integrations: unknown) => ({ ...track, integrations });
  for (const [integrations, deliver] of [
    [{ All: false }, false],
    [{ All: false, 'CRM hook': true }, true],
    [{ All: false, 'CRM hook': { option: 1 } }, true],
    [{ 'CRM hook': false }, false],
    [{ 'Other tool': false }, true],
    [{ All: true, 'CRM hook': false }, false],
    [{ 'crm hook': false }, true],
    ['All', true],
  ] as const)
    assert.equal(
      routeEvent(d([], []), null, withIntegrations(integrations) as never, person({})).deliver,
      deliver,
      JSON.stringify(integrations),
    );
});

it('settles attempts: delivered, failed at once on 4xx, retried with backoff or Retry-After for at least 24 h', () => {
  const now = 1_000_000_000_000;
  const half = () => 0.5;
  const at = (attempts: number, firstAttemptMs: number | null) => [{ id: 1, attempts, firstAttemptMs }];
  const ok = settle(
    at(1, now),
    { kind: 'ok', status: 204, retryAfterMs: null, message: '' },
    now,
    DEFAULT_RETRY_POLICY,
    half,
  );
  assert.equal(ok[0]?.status, 'delivered');
  const refused = settle(
    at(1, now),
    { kind: 'reject', status: 404, retryAfterMs: null, message: 'HTTP 404' },
    now,
    DEFAULT_RETRY_POLICY,
    half,
  );
  assert.deepEqual([refused[0]?.status, refused[0]?.lastError], ['failed', 'HTTP 404']);
  const retry = { kind: 'retry', status: 503, retryAfterMs: null, message: 'HTTP 503' } as const;
  // 1 s, 2 s, 4 s … (jitter 0.5 → ×1.0), capped at 1 h.
  for (const [attempts, delay] of [
    [1, 1_000],
    [2, 2_000],
    [5, 16_000],
    [40, 3_600_000],
  ] as const)
    assert.equal(
      settle(at(attempts, now), retry, now, DEFAULT_RETRY_POLICY, half)[0]?.nextAttemptMs,
      now + delay,
      `attempt ${attempts}`,
    );
  const jittered = settle(at(1, now), retry, now, DEFAULT_RETRY_POLICY, () => 0)[0]?.nextAttemptMs;
  assert.equal(jittered, now + 800);
  assert.equal(
    settle(at(1, now), { ...retry, retryAfterMs: 30_000 }, now, DEFAULT_RETRY_POLICY, half)[0]?.nextAttemptMs,
    now + 30_000,
  );
  assert.equal(
    settle(at(1, now), { ...retry, retryAfterMs: 0 }, now, DEFAULT_RETRY_POLICY, half)[0]?.nextAttemptMs,
    now + 250,
  );
  const day = 24 * 3_600_000;
  assert.equal(settle(at(30, now - day + 1), retry, now, DEFAULT_RETRY_POLICY, half)[0]?.status, 'queued');
  const gaveUp = settle(at(30, now - day), retry, now, DEFAULT_RETRY_POLICY, half)[0];
  assert.equal(gaveUp?.status, 'failed');
  assert.match(gaveUp?.lastError ?? '', /gave up after 30 attempts over 24 h: HTTP 503/);
});

it('signs the exact body bytes and batches by count and size', () => {
  const request = webhookRequest('s3cret-s3cret-s3cret', [{ type: 'track', event: 'é' }], {
    destinationId: 'dst_1',
    attemptId: 'a1',
  });
  assert.equal(request.body.toString('utf8'), '{"batch":[{"type":"track","event":"é"}]}');
  const expected = `sha256=${createHmac('sha256', 's3cret-s3cret-s3cret').update(request.body).digest('hex')}`;
  assert.equal(request.headers['x-cdp-signature'], expected);
  assert.equal(
    signBody('k', Buffer.from('x')),
    `sha256=${createHmac('sha256', 'k').update('x').digest('hex')}`,
  );
  assert.deepEqual(
    batchesOf(
      Array.from({ length: 250 }, (_, i) => i),
      () => 10,
    ).map((b) => b.length),
    [100, 100, 50],
  );
  assert.deepEqual(
    batchesOf([1, 2, 3], () => 300_000).map((b) => b.length),
    [1, 1, 1],
  );
});

it('reads definitions strictly: unknown fields, wrong types and bad URLs are problems', () => {
  const ok = readDestinationDraft(
    { type: 'webhook', name: ' CRM ', config: { url: 'https://x.example/h' } },
    'create',
  );
  assert.ok(ok.ok);
  assert.equal(ok.draft.name, 'CRM');
  const bad = readDestinationDraft(
    {
      type: 'email',
      name: '',
      config: { url: 'javascript:alert(1)', secret: '', extra: 1 },
      segments: ['ok', 'not ok!'],
      enabled: 'yes',
      consentCategory: [],
    },
    'create',
  );
  assert.ok(!bad.ok);
  assert.deepEqual(bad.problems.map((p) => p.path).sort(), [
    'config.extra',
    'config.secret',
    'config.url',
    'consentCategory',
    'enabled',
    'name',
    'segments.1',
    'type',
  ]);
  assert.ok(!readDestinationDraft([], 'update').ok);
  const filterError = readDestinationDraft({ filter: 'event = = "x"' }, 'update');
  assert.ok(!filterError.ok && filterError.filterErrors?.[0]?.line === 1);
  const update = readDestinationDraft({ filter: null, segments: null }, 'update');
  assert.ok(update.ok && update.draft.filter === null && update.draft.segments?.length === 0);
});
