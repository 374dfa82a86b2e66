/**
 * The debugger's live stream (GET …/events/stream) holds a connection open for as long as the
 * client likes, and it shows unmasked events: losing access must end it, as it makes any other
 * request of the same token or session answer 401/403/404. Access is checked again before each
 * page and, while no events come, every few seconds.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { it } from 'node:test';
import { createManualClock } from '../../src/shared/clock.ts';
import { memberUser, signIn } from '../support/console-users.ts';
import { admin, sendOk, sharedStore, uniqueId, withApp, wsUrl } from '../support/http-helpers.ts';
import { openSse, type SseConnection, type SseFrame, type SseReader } from '../support/sse.ts';
import { describeEachStore } from '../support/stores.ts';
import type { TestApp } from '../support/test-app.ts';

/** Opens the workspace's live stream with `headers` over a real socket, once it is connected. */
async function openStream(
  t: TestApp,
  headers: Record<string, string>,
  opened: SseConnection[],
): Promise<SseReader> {
  await t.app.http.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.http.server.address() as AddressInfo;
  const connection = await openSse(`http://127.0.0.1:${port}${wsUrl(t, '/events/stream')}`, headers);
  opened.push(connection);
  assert.equal(connection.status, 200);
  await connection.reader.next((f) => f.comments.includes('connected'));
  return connection.reader;
}

/** The stream delivers an event sent now (access is there to begin with). */
async function seesLiveEvent(t: TestApp, stream: SseReader): Promise<void> {
  const messageId = uniqueId('before');
  await sendOk(t, 'identify', { userId: 'u', traits: { email: 'ann@example.com' }, messageId });
  const { data } = await stream.nextMessage();
  assert.equal(data['messageId'], messageId);
}

/**
 * After access was lost: an event sent now is never shown; the stream says why (an `end` event
 * with the error code the same request would now get) and then closes.
 */
async function endsWithout(t: TestApp, stream: SseReader, code: string, sendEvent = true): Promise<void> {
  const secret = uniqueId('after');
  if (sendEvent)
    await sendOk(t, 'identify', { userId: 'u', traits: { email: 'secret@bank.com' }, messageId: secret });
  let end: SseFrame;
  try {
    end = await stream.next((f) => f.event === 'end' || f.data.includes(secret), 10_000);
  } catch (error) {
    assert.fail(`the stream neither ended nor showed the event: ${String(error)}`);
  }
  assert.equal(end.event, 'end', `the stream showed an event after access was lost: ${end.data}`);
  assert.equal((JSON.parse(end.data) as { code?: string }).code, code);
  await assert.rejects(
    stream.next(() => true, 5_000),
    /the SSE stream ended/,
  );
  assert.ok(
    stream.frames.every((f) => !f.data.includes(secret)),
    'no frame carries the event sent after access was lost',
  );
}

describeEachStore('live event stream after access is lost', (fixture) => {
  const store = sharedStore(fixture);
  const app = async (fn: (t: TestApp, opened: SseConnection[]) => Promise<void>): Promise<void> =>
    withApp(await store(), {}, async (t) => {
      const opened: SseConnection[] = [];
      try {
        await fn(t, opened);
      } finally {
        for (const connection of opened) connection.close();
      }
    });

  async function mintToken(t: TestApp): Promise<{ id: string; headers: Record<string, string> }> {
    const res = await admin(t, 'POST', wsUrl(t, '/tokens'), { name: 'debugger', role: 'admin' });
    assert.equal(res.statusCode, 201, res.body);
    const { id, token } = res.json<{ id: string; token: string }>();
    return { id, headers: { authorization: `Bearer ${token}` } };
  }

  it('ends when its token is revoked', { timeout: 60_000 }, async () => {
    await app(async (t, opened) => {
      const token = await mintToken(t);
      const stream = await openStream(t, token.headers, opened);
      await seesLiveEvent(t, stream);
      assert.equal((await admin(t, 'DELETE', wsUrl(t, `/tokens/${token.id}`))).statusCode, 204);
      await endsWithout(t, stream, 'auth.invalid_token');
    });
  });

  it('ends within seconds when its token is revoked while no events come', { timeout: 60_000 }, async () => {
    await app(async (t, opened) => {
      const token = await mintToken(t);
      const stream = await openStream(t, token.headers, opened);
      assert.equal((await admin(t, 'DELETE', wsUrl(t, `/tokens/${token.id}`))).statusCode, 204);
      await endsWithout(t, stream, 'auth.invalid_token', false);
    });
  });

  it("ends when the user's PII access is withdrawn", { timeout: 60_000 }, async () => {
    await app(async (t, opened) => {
      const user = await memberUser(t, 'marketer');
      const session = await signIn(t, user.email);
      const stream = await openStream(t, { cookie: session.headers.cookie }, opened);
      await seesLiveEvent(t, stream);
      const res = await admin(t, 'PATCH', wsUrl(t, `/users/${user.id}`), { piiAccess: 'withdraw' });
      assert.equal(res.statusCode, 200, res.body);
      await endsWithout(t, stream, 'auth.forbidden');
    });
  });

  it('ends when the user is removed from the workspace', { timeout: 60_000 }, async () => {
    await app(async (t, opened) => {
      const user = await memberUser(t, 'admin');
      const session = await signIn(t, user.email);
      const stream = await openStream(t, { cookie: session.headers.cookie }, opened);
      await seesLiveEvent(t, stream);
      assert.equal((await admin(t, 'DELETE', wsUrl(t, `/users/${user.id}`))).statusCode, 204);
      await endsWithout(t, stream, 'auth.session_expired');
    });
  });

  it('ends when the user is disabled', { timeout: 60_000 }, async () => {
    await app(async (t, opened) => {
      const user = await memberUser(t, 'marketer');
      const session = await signIn(t, user.email);
      const stream = await openStream(t, { cookie: session.headers.cookie }, opened);
      await seesLiveEvent(t, stream);
      const res = await admin(t, 'PATCH', wsUrl(t, `/users/${user.id}`), { disabled: true });
      assert.equal(res.statusCode, 200, res.body);
      await endsWithout(t, stream, 'auth.session_expired');
    });
  });

  it('ends when the session is signed out', { timeout: 60_000 }, async () => {
    await app(async (t, opened) => {
      const user = await memberUser(t, 'owner');
      const session = await signIn(t, user.email);
      const stream = await openStream(t, { cookie: session.headers.cookie }, opened);
      await seesLiveEvent(t, stream);
      const out = await admin(t, 'DELETE', '/api/v1/session', undefined, session.headers);
      assert.ok(out.statusCode < 300, out.body);
      await endsWithout(t, stream, 'auth.session_expired');
    });
  });

  it('is no activity of its session: the idle timeout runs on and ends it', { timeout: 60_000 }, async () => {
    const clock = createManualClock(Date.now());
    await withApp(await store(), { clock }, async (t) => {
      const opened: SseConnection[] = [];
      try {
        const user = await memberUser(t, 'admin');
        const session = await signIn(t, user.email);
        const stream = await openStream(t, { cookie: session.headers.cookie }, opened);
        // 25 of the 30 idle minutes later the stream checks its access (before showing an
        // event): that check must not count as the user's activity.
        clock.advance(25 * 60_000);
        await seesLiveEvent(t, stream);
        clock.advance(10 * 60_000);
        const me = await admin(t, 'GET', '/api/v1/session', undefined, { cookie: session.headers.cookie });
        assert.equal(me.statusCode, 401, `the session idled out 35 minutes after sign-in: ${me.body}`);
        await endsWithout(t, stream, 'auth.session_expired');
      } finally {
        for (const connection of opened) connection.close();
      }
    });
  });

  it('goes on while access holds (a role change that keeps PII access)', { timeout: 60_000 }, async () => {
    await app(async (t, opened) => {
      const user = await memberUser(t, 'admin');
      const session = await signIn(t, user.email);
      const stream = await openStream(t, { cookie: session.headers.cookie }, opened);
      await seesLiveEvent(t, stream);
      const res = await admin(t, 'PATCH', wsUrl(t, `/users/${user.id}`), { role: 'marketer' });
      assert.equal(res.statusCode, 200, res.body);
      await seesLiveEvent(t, stream);
    });
  });
});
