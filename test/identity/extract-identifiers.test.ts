import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  createBlockedValues,
  DEFAULT_IDENTITY_SETTINGS,
  extractIdentifiers,
  identitySettings,
  type IdentitySettings,
} from '../../src/identity/index.ts';
import type { JsonObject } from '../../src/shared/json.ts';
import { fromMessage } from './identity-fixtures.ts';

const CRM = identitySettings({ customTypes: ['crm_id'], defaultPhoneRegion: 'FR' });

function extract(message: JsonObject, settings: IdentitySettings = CRM) {
  return extractIdentifiers(fromMessage(1, message, 0), settings, createBlockedValues(settings));
}

function ids(message: JsonObject, settings?: IdentitySettings): string[] {
  return extract(message, settings).identifiers.map((i) => `${i.type}:${i.value}`);
}

void describe('extractIdentifiers by call type', () => {
  const cases: [string, JsonObject, string[]][] = [
    [
      'track with both ids',
      { type: 'track', event: 'X', userId: 'u1', anonymousId: 'a1' },
      ['user_id:u1', 'anonymous_id:a1'],
    ],
    ['page anonymous', { type: 'page', anonymousId: 'a1' }, ['anonymous_id:a1']],
    [
      'screen with context.traits',
      { type: 'screen', userId: 'u1', context: { traits: { email: 'A@B.example' } } },
      ['user_id:u1', 'email:a@b.example'],
    ],
    [
      'identify traits',
      {
        type: 'identify',
        userId: 'u1',
        anonymousId: 'a1',
        traits: { email: ' Jane@Example.com ', phone: '06 12 34 56 78', name: 'J' },
      },
      ['user_id:u1', 'anonymous_id:a1', 'email:jane@example.com', 'phone:+33612345678'],
    ],
    [
      'identify traits and context.traits, duplicates collapsed',
      {
        type: 'identify',
        anonymousId: 'a1',
        traits: { email: 'j@x.example' },
        context: { traits: { email: 'J@X.example', phone: '+44 7911 123456' } },
      },
      ['anonymous_id:a1', 'email:j@x.example', 'phone:+447911123456'],
    ],
    [
      'track traits are not identity',
      { type: 'track', userId: 'u1', traits: { email: 'j@x.example' } },
      ['user_id:u1'],
    ],
    [
      'group: groupId and group traits are not the person',
      {
        type: 'group',
        userId: 'u1',
        groupId: 'grp_1',
        traits: { email: 'info@company.example', phone: '+33 1 23 45 67 89' },
      },
      ['user_id:u1'],
    ],
    [
      'alias: previousId is an anonymous_id',
      { type: 'alias', userId: 'u1', previousId: 'a1' },
      ['user_id:u1', 'anonymous_id:a1'],
    ],
    [
      'alias: previousId equal to userId adds nothing',
      { type: 'alias', userId: 'u1', previousId: 'u1' },
      ['user_id:u1'],
    ],
    [
      'previousId outside alias is ignored',
      { type: 'track', userId: 'u1', previousId: 'a9' },
      ['user_id:u1'],
    ],
    [
      'context.externalIds: declared custom and built-in types',
      {
        type: 'track',
        userId: 'u1',
        context: {
          externalIds: [
            { id: ' C-1 ', type: 'crm_id', collection: 'users', encoding: 'none' },
            { id: 'X@Y.example', type: 'email', collection: 'users', encoding: 'none' },
            { id: 'z', type: 'shopify_id', collection: 'users', encoding: 'none' },
          ],
        },
      },
      ['user_id:u1', 'crm_id:C-1', 'email:x@y.example'],
    ],
    ['numeric userId is stringified', { type: 'track', userId: 42 }, ['user_id:42']],
  ];
  for (const [name, message, expected] of cases) {
    void it(name, () => assert.deepStrictEqual(ids(message), expected));
  }

  void it('reads ids from the log entry columns first', () => {
    const event = { ...fromMessage(1, { type: 'track' }, 0), userId: 'u-col', anonymousId: 'a-col' };
    const result = extractIdentifiers(event, CRM, createBlockedValues(CRM));
    assert.deepStrictEqual(result.identifiers, [
      { type: 'user_id', value: 'u-col' },
      { type: 'anonymous_id', value: 'a-col' },
    ]);
  });
});

void describe('extractIdentifiers on bad shapes', () => {
  void it('records rejections with reasons and truncated values', () => {
    const result = extract({
      type: 'identify',
      userId: 'null',
      anonymousId: 'x'.repeat(2048),
      traits: { email: 'nope', phone: ['+33612345678'] },
      context: {
        externalIds: [
          'not-an-object',
          { id: 'c', type: 'shopify_id', collection: 'users', encoding: 'none' },
          { id: 'c', type: 'crm_id', collection: 'accounts', encoding: 'none' },
          { id: 'c', type: 'crm_id', encoding: 'base64' },
          { id: { nested: true }, type: 'crm_id' },
          { id: 'c' },
        ],
      },
    });
    assert.deepStrictEqual(result.identifiers, []);
    assert.deepStrictEqual(
      result.rejected.map((r) => [r.type, r.reason]),
      [
        ['user_id', 'identity.blocked'],
        ['anonymous_id', 'identity.too_long'],
        ['email', 'identity.invalid_email'],
        ['phone', 'identity.invalid_shape'],
        ['external_id', 'identity.invalid_shape'],
        ['shopify_id', 'identity.undeclared_type'],
        ['crm_id', 'identity.unsupported_external_id'],
        ['crm_id', 'identity.unsupported_external_id'],
        ['crm_id', 'identity.invalid_shape'],
        ['external_id', 'identity.invalid_shape'],
      ],
    );
    assert.equal(result.rejected[1]?.value, `${'x'.repeat(64)}…`);
    assert.equal(result.rejected[3]?.value, '[array(1)]');
    assert.equal(result.rejected[8]?.value, '[object]');
  });

  void it('never throws on odd shapes', () => {
    const odd: JsonObject[] = [
      { type: 'identify', traits: [] as never },
      { type: 'identify', traits: 'text' },
      { type: 'identify', traits: null },
      { type: 'track', context: [] as never },
      { type: 'track', context: { externalIds: { id: 'x' } } },
      { type: 'track', context: { externalIds: 'x' } },
      { type: 'track', context: { traits: { email: 12 } } },
      { type: 'alias', previousId: { a: 1 } },
      JSON.parse('{"type":"identify","traits":{"__proto__":{"email":"evil@x.example"}}}') as JsonObject,
    ];
    for (const message of odd) assert.deepStrictEqual(extract(message).identifiers, []);
  });

  void it('bounds 10,000 externalIds: links at most 25, reads at most 100', () => {
    const externalIds = Array.from({ length: 10_000 }, (_, i) => ({
      id: `c${i}`,
      type: 'crm_id',
      collection: 'users',
      encoding: 'none',
    }));
    const started = performance.now();
    const result = extract({ type: 'track', userId: 'u1', context: { externalIds } });
    assert.ok(performance.now() - started < 200);
    assert.equal(result.identifiers.length, 25);
    assert.equal(result.rejectedCount, 10_000 - 24);
    assert.deepStrictEqual(result.rejected, [
      { type: '*', value: '(9976 dropped)', reason: 'identity.too_many_identifiers' },
    ]);
  });

  void it('honours a smaller per-event bound', () => {
    const s = identitySettings({ maxIdentifiersPerEvent: 2 });
    const result = extractIdentifiers(
      fromMessage(
        1,
        { type: 'identify', userId: 'u', anonymousId: 'a', traits: { email: 'e@x.example' } },
        0,
      ),
      s,
      createBlockedValues(s),
    );
    assert.deepStrictEqual(
      result.identifiers.map((i) => i.type),
      ['user_id', 'anonymous_id'],
    );
    assert.deepStrictEqual(
      result.rejected.map((r) => r.reason),
      ['identity.too_many_identifiers'],
    );
  });

  void it('reads national phones with the event locale when no region is set', () => {
    const message = {
      type: 'identify',
      anonymousId: 'a',
      traits: { phone: '0170 1234567' },
      context: { locale: 'de-DE' },
    };
    assert.deepStrictEqual(ids(message, DEFAULT_IDENTITY_SETTINGS), [
      'anonymous_id:a',
      'phone:+491701234567',
    ]);
  });
});
