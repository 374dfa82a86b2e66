import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkCsrf, csrfTokenFor, csrfTokenMatches } from '../../src/access/csrf.ts';
import { hashSecret } from '../../src/shared/secrets.ts';

const sessionId = 'A'.repeat(43);
const own = 'https://cdp.example.com';
const base: {
  sessionId: string;
  token: string | undefined;
  origin: string | undefined;
  secFetchSite: string | undefined;
  ownOrigin: string;
} = {
  sessionId,
  token: csrfTokenFor(sessionId),
  origin: undefined,
  secFetchSite: undefined,
  ownOrigin: own,
};

describe('CSRF check', () => {
  it('derives a per-session token that is not the stored session hash', () => {
    assert.notEqual(csrfTokenFor(sessionId), csrfTokenFor('B'.repeat(43)));
    assert.notEqual(csrfTokenFor(sessionId), hashSecret(sessionId));
    assert.equal(csrfTokenMatches(sessionId, csrfTokenFor(sessionId)), true);
    assert.equal(csrfTokenMatches(sessionId, undefined), false);
    assert.equal(csrfTokenMatches(sessionId, 'x'), false);
  });

  const table: [string, Partial<typeof base> & { method: string }, boolean][] = [
    ['safe methods need nothing', { method: 'GET', token: undefined, origin: 'https://evil.example' }, true],
    ['a write with the token', { method: 'POST' }, true],
    [
      'a write with token, same origin, same-origin fetch',
      { method: 'DELETE', origin: own, secFetchSite: 'same-origin' },
      true,
    ],
    ['a write without the token', { method: 'POST', token: undefined }, false],
    ['a write with a wrong token', { method: 'PATCH', token: csrfTokenFor('B'.repeat(43)) }, false],
    ['a write from another origin', { method: 'POST', origin: 'https://evil.example' }, false],
    ['a cross-site fetch', { method: 'POST', secFetchSite: 'cross-site' }, false],
    ['a same-site (sibling subdomain) fetch', { method: 'POST', secFetchSite: 'same-site' }, false],
    ['"Origin: null" (sandboxed frame)', { method: 'POST', origin: 'null' }, false],
  ];
  for (const [name, request, ok] of table) {
    it(`${name} → ${ok ? 'allowed' : 'refused'}`, () => {
      assert.equal(checkCsrf({ ...base, ...request }).ok, ok);
    });
  }
});
