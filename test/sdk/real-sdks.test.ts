import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { Analytics as SegmentAnalytics } from '@segment/analytics-node';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

/**
 * The published Segment and RudderStack server SDKs, unmodified, pointed at a real server
 * socket: what they send must be accepted and stored as the same events.
 */
describe('real SDKs against the server', () => {
  let t: TestApp;
  let base: string;

  before(async () => {
    const store = createSqliteStore({ filename: ':memory:' });
    await store.migrate();
    t = await createTestApp(store);
    base = await t.app.http.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await t.close();
    await t.store.close();
  });

  async function stored(filter: string): Promise<Record<string, unknown>[]> {
    const response = await t.app.http.inject({
      method: 'GET',
      url: `/api/v1/workspaces/${t.workspace.slug}/events?limit=500&${filter}`,
      headers: t.adminHeaders,
    });
    return response.json().items as Record<string, unknown>[];
  }

  it('@segment/analytics-node: every call type arrives once, with its fields', async () => {
    const analytics = new SegmentAnalytics({ writeKey: t.writeKey, host: base, flushAt: 3, maxRetries: 0 });
    const errors: unknown[] = [];
    analytics.on('error', (error) => errors.push(error));
    analytics.identify({ userId: 'seg-1', traits: { email: 'Zoe@Example.com', plan: 'pro' } });
    analytics.track({
      userId: 'seg-1',
      event: 'Order Completed',
      properties: { revenue: 42.5, currency: 'EUR' },
    });
    analytics.page({ anonymousId: 'seg-anon', name: 'Home', properties: { path: '/' } });
    analytics.screen({ userId: 'seg-1', name: 'Cart' });
    analytics.group({ userId: 'seg-1', groupId: 'acme', traits: { employees: 12 } });
    analytics.alias({ previousId: 'seg-anon', userId: 'seg-1' });
    await analytics.closeAndFlush({ timeout: 10_000 });
    assert.deepEqual(errors, []);
    const events = [...(await stored('userId=seg-1')), ...(await stored('anonymousId=seg-anon'))];
    const byType = new Map(events.map((e) => [e['type'], e]));
    assert.deepEqual([...byType.keys()].sort(), ['alias', 'group', 'identify', 'page', 'screen', 'track']);
    assert.equal((byType.get('track')?.['properties'] as { revenue: number }).revenue, 42.5);
    assert.equal((byType.get('identify')?.['traits'] as { email: string }).email, 'Zoe@Example.com');
    assert.equal(byType.get('group')?.['groupId'], 'acme');
    assert.equal(byType.get('alias')?.['previousId'], 'seg-anon');
    const library = (byType.get('track')?.['context'] as { library: { name: string } }).library;
    assert.equal(library.name, '@segment/analytics-node');
    assert.equal(events.length, 6, 'nothing stored twice');
  });

  it('@rudderstack/rudder-sdk-node (gzip batches): every call arrives once', async () => {
    const client = new RudderAnalytics(t.writeKey, {
      dataPlaneUrl: base,
      flushAt: 2,
      flushInterval: 200,
      logLevel: 'error',
    });
    client.identify({ userId: 'rs-1', traits: { email: 'ada@example.org' } });
    client.track({ userId: 'rs-1', event: 'Product Viewed', properties: { sku: 'A-1' } });
    client.page({ userId: 'rs-1', name: 'Pricing' });
    client.alias({ previousId: 'rs-anon', userId: 'rs-1' });
    await client.flush();
    const deadline = Date.now() + 10_000;
    let events = await stored('userId=rs-1');
    while (events.length < 4 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      events = await stored('userId=rs-1');
    }
    assert.deepEqual(events.map((e) => e['type']).sort(), ['alias', 'identify', 'page', 'track']);
    assert.equal((events.find((e) => e['type'] === 'track')?.['properties'] as { sku: string }).sku, 'A-1');
  });
});
