import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { it } from 'node:test';
import {
  admin,
  allEvents,
  expectError,
  sendOk,
  sharedStore,
  withApp,
  wsUrl,
} from '../support/http-helpers.ts';
import { openSse, SseReader, type SseConnection } from '../support/sse.ts';
import { describeEachStore } from '../support/stores.ts';
import { basicAuth, type TestApp } from '../support/test-app.ts';

// GET …/events (newest first, filters, cursor paging) and the live stream GET …/events/stream (SSE).

const SENT: readonly [string, Record<string, unknown>][] = [
  ['track', { userId: 'u1', event: 'Signed Up' }],
  ['track', { userId: 'u1', event: 'Order Completed' }],
  ['page', { anonymousId: 'a1', name: 'Home' }],
  ['identify', { userId: 'u2', traits: { plan: 'pro' } }],
  ['track', { userId: 'u2', anonymousId: 'a2', event: 'Order Completed' }],
  ['screen', { anonymousId: 'a1', name: 'Main' }],
  ['group', { userId: 'u1', groupId: 'g1' }],
];

/** Sends SENT in order, one request each; messageIds are e0…e6. */
async function seed(t: TestApp): Promise<void> {
  for (const [i, [route, body]] of SENT.entries()) await sendOk(t, route, { ...body, messageId: `e${i}` });
}

type Page = { items: { messageId: string }[]; nextCursor: string | null };

async function page(t: TestApp, query: string): Promise<Page> {
  const res = await admin(t, 'GET', wsUrl(t, `/events?${query}`));
  assert.equal(res.statusCode, 200, res.body);
  return res.json<Page>();
}

const ids = (messages: Record<string, unknown>[]): unknown[] => messages.map((m) => m['messageId']);

describeEachStore('admin API events', (fixture) => {
  const store = sharedStore(fixture);
  const app = async (fn: (t: TestApp) => Promise<void>): Promise<void> => withApp(await store(), {}, fn);

  it('lists the stored events newest first, as the stored Segment messages', async () => {
    await app(async (t) => {
      await seed(t);
      const listed = await page(t, '');
      assert.deepEqual(ids(listed.items), ['e6', 'e5', 'e4', 'e3', 'e2', 'e1', 'e0']);
      assert.equal(listed.nextCursor, null);
      const first = listed.items.at(-1) as Record<string, unknown>;
      assert.deepEqual([first['type'], first['event'], first['userId']], ['track', 'Signed Up', 'u1']);
    });
  });

  it('filters by type, event, userId and anonymousId, alone and combined', async () => {
    await app(async (t) => {
      await seed(t);
      const cases: [Record<string, string>, string[]][] = [
        [{ type: 'track' }, ['e4', 'e1', 'e0']],
        [{ type: 'identify' }, ['e3']],
        [{ type: 'alias' }, []],
        [{ event: 'Order Completed' }, ['e4', 'e1']],
        [{ event: 'order completed' }, []],
        [{ userId: 'u1' }, ['e6', 'e1', 'e0']],
        [{ anonymousId: 'a1' }, ['e5', 'e2']],
        [{ anonymousId: 'a2' }, ['e4']],
        [{ type: 'track', userId: 'u2' }, ['e4']],
        [{ type: 'page', anonymousId: 'a1' }, ['e2']],
        [{ userId: 'nobody' }, []],
      ];
      for (const [query, expected] of cases) {
        assert.deepEqual(ids(await allEvents(t, query)), expected, JSON.stringify(query));
      }
      const badType = await admin(t, 'GET', wsUrl(t, '/events?type=purchase'));
      expectError(badType, 400, 'request.invalid_body');
      // One line naming the field and its choices, not the validator's error per choice.
      assert.equal(
        badType.json().error.message,
        'querystring/type must be one of "identify", "track", "page", "screen", "group", "alias"',
      );
    });
  });

  it('pages with limit + cursor through every event exactly once, also with a filter', async () => {
    await app(async (t) => {
      await seed(t);
      for (const [query, expected] of [
        ['limit=2', ['e6', 'e5', 'e4', 'e3', 'e2', 'e1', 'e0']],
        ['limit=1&type=track', ['e4', 'e1', 'e0']],
        ['limit=7', ['e6', 'e5', 'e4', 'e3', 'e2', 'e1', 'e0']],
      ] as const) {
        const limit = Number(/limit=(\d+)/.exec(query)?.[1]);
        const walked: string[] = [];
        let current = await page(t, query);
        for (let n = 0; ; n++) {
          assert.ok(current.items.length <= limit && n < 20);
          walked.push(...current.items.map((m) => m.messageId));
          if (current.nextCursor === null) break;
          current = await page(t, `${query}&cursor=${encodeURIComponent(current.nextCursor)}`);
        }
        assert.deepEqual(walked, expected, query);
      }
    });
  });

  it('a filtered page reads 50,000 events at most, short or empty, and its cursor goes on', async () => {
    await app(async (t) => {
      await sendOk(t, 'identify', { userId: 'u_old', messageId: 'old' });
      // 50,000 later events of the workspace, none of them u_old's.
      const now = Date.now();
      for (let b = 0; b < 10; b++)
        await t.store.events.append(
          Array.from({ length: 5_000 }, (_, i) => ({
            workspaceId: t.workspace.id,
            sourceId: 'src_bulk',
            messageId: `bulk-${b}-${i}`,
            type: 'track' as const,
            event: 'Viewed',
            userId: 'u_other',
            anonymousId: null,
            timestampMs: now,
            receivedMs: now,
            payload: JSON.stringify({
              type: 'track',
              messageId: `bulk-${b}-${i}`,
              event: 'Viewed',
              userId: 'u_other',
            }),
          })),
          now - 60_000,
        );
      const first = await page(t, 'userId=u_old&limit=10');
      assert.deepEqual(first.items, []);
      assert.notEqual(first.nextCursor, null);
      const second = await page(
        t,
        `userId=u_old&limit=10&cursor=${encodeURIComponent(first.nextCursor ?? '')}`,
      );
      assert.deepEqual(ids(second.items), ['old']);
      assert.equal(second.nextCursor, null);
      assert.deepEqual(ids(await allEvents(t, { userId: 'u_old' })), ['old']);
    });
  });

  it('paging stays exact while new events arrive between pages', async () => {
    await app(async (t) => {
      await seed(t);
      const first = await page(t, 'limit=3');
      await sendOk(t, 'track', { userId: 'u9', event: 'Late', messageId: 'late' });
      const walked = first.items.map((m) => m.messageId);
      let cursor = first.nextCursor;
      while (cursor !== null) {
        const next = await page(t, `limit=3&cursor=${encodeURIComponent(cursor)}`);
        walked.push(...next.items.map((m) => m.messageId));
        cursor = next.nextCursor;
      }
      assert.deepEqual(walked, ['e6', 'e5', 'e4', 'e3', 'e2', 'e1', 'e0']);
      assert.deepEqual(ids((await page(t, 'limit=1')).items), ['late']);
    });
  });

  it('a bad cursor or limit answers 400 with the error shape', async () => {
    await app(async (t) => {
      await seed(t);
      const b64 = (text: string): string => Buffer.from(text).toString('base64url');
      for (const cursor of [
        'garbage',
        '%25%25%25',
        b64('{"seq":"12"}'),
        b64('[1]'),
        b64('{"x":1}'),
        b64('{"seq":1.5}'),
      ]) {
        expectError(
          await admin(t, 'GET', wsUrl(t, `/events?cursor=${cursor}`)),
          400,
          'request.invalid_cursor',
        );
      }
      for (const limit of ['0', '501', 'ten', '-1']) {
        expectError(await admin(t, 'GET', wsUrl(t, `/events?limit=${limit}`)), 400, 'request.invalid_body');
      }
    });
  });

  it('the live stream delivers a new event as an "event: message" frame', async () => {
    await app(async (t) => {
      await t.app.http.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.http.server.address() as AddressInfo;
      const base = `http://127.0.0.1:${port}`;
      const abort = new AbortController();
      try {
        const res = await fetch(`${base}${wsUrl(t, '/events/stream')}`, {
          headers: t.adminHeaders,
          signal: abort.signal,
        });
        assert.equal(res.status, 200);
        assert.match(String(res.headers.get('content-type')), /^text\/event-stream/);
        const stream = new SseReader(res.body as ReadableStream<Uint8Array>);
        await stream.next((f) => f.comments.includes('connected'));
        await sendOk(t, 'track', { userId: 'u', event: 'Live', messageId: 'live-1', properties: { n: 1 } });
        const frame = await stream.nextMessage(5000);
        assert.match(String(frame.id), /^\d+$/);
        assert.deepEqual(
          (({ messageId, event, type, properties }) => ({ messageId, event, type, properties }))(frame.data),
          { messageId: 'live-1', event: 'Live', type: 'track', properties: { n: 1 } },
        );
        await stream.cancel();
      } finally {
        abort.abort();
      }
    });
  });

  it('the live stream resumes after Last-Event-ID and shows only its own workspace', async () => {
    await app(async (t) => {
      await t.app.http.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.http.server.address() as AddressInfo;
      const url = `http://127.0.0.1:${port}${wsUrl(t, '/events/stream')}`;
      const other = await admin(t, 'POST', '/api/v1/workspaces', { name: 'Other' });
      const otherWs = other.json<{ id: string }>().id;
      const otherKey = (
        await admin(t, 'POST', `/api/v1/workspaces/${otherWs}/sources`, { name: 'o', type: 'http' })
      ).json<{
        writeKey: string;
      }>().writeKey;
      const streams: SseConnection[] = [];
      const open = async (headers: Record<string, string>): Promise<SseReader> => {
        const connection = await openSse(url, { ...t.adminHeaders, ...headers });
        streams.push(connection);
        assert.equal(connection.status, 200);
        await connection.reader.next((f) => f.comments.includes('connected'));
        return connection.reader;
      };

      try {
        const live = await open({});
        await sendOk(
          t,
          'track',
          { userId: 'u', event: 'Other' },
          { auth: basicAuth(otherKey).authorization },
        );
        await sendOk(t, 'track', { userId: 'u', event: 'One', messageId: 'r-1' });
        const one = await live.nextMessage();
        assert.equal(one.data['messageId'], 'r-1', "the first frame is not this workspace's event");
        streams[0]?.close();

        await sendOk(t, 'track', { userId: 'u', event: 'Two', messageId: 'r-2' });
        await sendOk(t, 'batch', { batch: [{ type: 'identify', userId: 'u', messageId: 'r-3' }] });
        const resumed = await open({ 'last-event-id': String(one.id) });
        const two = await resumed.nextMessage();
        const three = await resumed.nextMessage();
        assert.deepEqual([two.data['messageId'], three.data['messageId']], ['r-2', 'r-3']);
        assert.ok(Number(two.id) > Number(one.id) && Number(three.id) > Number(two.id));
        streams[1]?.close();

        const fresh = await open({});
        await sendOk(t, 'page', { userId: 'u', name: 'Four', messageId: 'r-4' });
        const four = await fresh.nextMessage();
        assert.equal(four.data['messageId'], 'r-4', 'a stream without Last-Event-ID replayed old events');
      } finally {
        for (const stream of streams) stream.close();
      }
    });
  });

  it('the live stream needs a token', async () => {
    await app(async (t) => {
      await t.app.http.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.http.server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}${wsUrl(t, '/events/stream')}`);
      assert.equal(res.status, 401);
      const body = (await res.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'auth.missing_token');
    });
  });
});
