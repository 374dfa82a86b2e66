/**
 * What validates runs: definitions at the edges of the language's limits (long flat `or`/`and`
 * chains within the source limit) compile to SQL both engines accept; definitions that name
 * what the workspace lacks, or hold strings the engines would read differently, are refused with
 * a 400 instead of matching nobody (or whoever the engine decides).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { admin, drained, eventually, expectError, sendOk, wsUrl } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

/** `traits.a = 0 or traits.a = 1 or …`: n terms, each one level of a flat chain. */
const chain = (n: number, op: 'or' | 'and', term: (i: number) => string): string =>
  Array.from({ length: n }, (_, i) => term(i)).join(` ${op} `);

describeEachStore('segment definitions at the limits', (fixture) => {
  let t: TestApp;
  const url = (path: string) => wsUrl(t, path);
  const preview = (definition: string) => admin(t, 'POST', url('/segments/preview'), { definition });

  before(async () => {
    t = await createTestApp((await fixture.fresh()).store);
    await sendOk(t, 'identify', { userId: 'b-1', traits: { a: 994, b: 'x' } });
    await sendOk(t, 'identify', { userId: 'b-2', traits: { a: 5000, b: 'x' } });
    await sendOk(t, 'track', { userId: 'b-1', event: 'E', properties: { n: 994 } });
    await drained(t);
  });
  after(() => t.close());

  it('a long flat or chain previews, saves and backfills on both engines', async () => {
    const definition = chain(995, 'or', (i) => `traits.a = ${i}`);
    assert.ok(definition.length > 16_000 && definition.length < 64 * 1024);
    const res = await preview(definition);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<{ size: number }>().size, 1);

    const created = await admin(t, 'POST', url('/segments'), { name: 'Long', slug: 'long-or', definition });
    assert.equal(created.statusCode, 201, created.body);
    const ready = await eventually(async () => {
      const body = (await admin(t, 'GET', url('/segments/long-or'))).json<{
        status: string;
        size: number;
        backfill: { error: string | null };
      }>();
      return body.status === 'ready' || body.status === 'failed' ? body : undefined;
    }, 'long-or backfilled');
    assert.equal(ready.status, 'ready', ready.backfill.error ?? '');
    assert.equal(ready.size, 1);
  });

  it('inside did … where (…), with and chains, and as long as the source limit allows', async () => {
    const inWhere = `did "E" where (${chain(995, 'or', (i) => `properties.n = ${i}`)})`;
    const res = await preview(inWhere);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<{ size: number }>().size, 1);

    const ands = await preview(chain(1500, 'and', (i) => `traits.a != ${i}`));
    assert.equal(ands.statusCode, 200, ands.body);
    assert.equal(ands.json<{ size: number }>().size, 1);

    // The most terms the 64 KB source limit lets through.
    let widest = 'traits.a=0';
    for (let i = 1; widest.length + ` or traits.a=${i}`.length <= 64 * 1024; i++)
      widest += ` or traits.a=${i}`;
    const wide = await preview(widest);
    assert.equal(wide.statusCode, 200, wide.body);
    assert.equal(wide.json<{ size: number }>().size, 1);
  });

  it('a string holding a lone surrogate is a 400 with its position, not members that depend on the engine', async () => {
    await sendOk(t, 'identify', { userId: 'b-3', traits: { nick: '\u{1F600}abc' } });
    await drained(t);
    for (const definition of [
      'traits.nick starts_with "\\ud83d"',
      'traits.nick = "abc\\ude00"',
      'did "E" where (properties."\\ud83d" exists)',
    ]) {
      const error = expectError(await preview(definition), 400, 'segment.invalid_string');
      assert.match(String(error['message']), /lone surrogate/);
      assert.equal(error['line'], 1);
      assert.equal(typeof error['column'], 'number');
    }
    // The whole pair is a character like any other: both paths agree on it.
    const pair = await preview('traits.nick starts_with "\\ud83d\\ude00"');
    assert.equal(pair.statusCode, 200, pair.body);
    assert.equal(pair.json<{ size: number }>().size, 1);
  });

  it('a consent category the workspace does not configure is a 400 with its position', async () => {
    const error = expectError(
      await admin(t, 'POST', url('/segments'), {
        name: 'Typo',
        slug: 'typo',
        definition: 'traits.b = "x" and consent.marketting = true',
      }),
      400,
      'segment.unknown_consent_category',
    );
    assert.match(String(error['message']), /marketting/);
    assert.deepEqual([error['line'], error['column']], [1, 20]);
    expectError(await preview('consent.marketting = true'), 400, 'segment.unknown_consent_category');
    // The configured ones (the defaults here) are accepted, and follow the settings.
    assert.equal((await preview('consent.marketing = true')).statusCode, 200);
    const settings = await admin(t, 'PUT', url('/settings/consent'), {
      categories: ['necessary', 'marketting'],
      gpcOptOut: [],
    });
    assert.equal(settings.statusCode, 200, settings.body);
    assert.equal((await preview('consent.marketting = true')).statusCode, 200);
    expectError(await preview('consent.marketing = true'), 400, 'segment.unknown_consent_category');
  });
});
