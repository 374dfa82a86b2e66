/**
 * What a receiver answers, and what the platform keeps of it. A receiver's response body is its
 * own data (often the payload echoed back, personal data included): a delivery keeps its status,
 * reason, length and type, never its text. And a receiver that was sent a person's events, however
 * it answered (a refusal, an error, no answer), may hold them: an erasure sends it a deletion call.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { memberUser, signIn } from '../support/console-users.ts';
import { admin, sendOk, uniqueId } from '../support/http-helpers.ts';
import { describeEachStore, type StoreHandle } from '../support/stores.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { drained, eventually, privacyRequest, url } from '../privacy/privacy-helpers.ts';

type Answer = 'echo-422' | 'echo-503' | 'hang-up' | 'ok';

interface DeliveryView {
  status: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
}

/**
 * A local webhook receiver that reads each request whole, records it, then answers as told:
 * echoing the payload back with 422 or 503 (as many validating APIs do), or closing the
 * connection without an answer.
 */
class ScriptedReceiver {
  readonly bodies: string[] = [];
  readonly #server: Server;

  private constructor(answer: Answer) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.bodies.push(body);
        if (answer === 'hang-up') {
          req.socket.destroy();
          return;
        }
        if (answer === 'ok') {
          res.writeHead(200).end();
          return;
        }
        const status = answer === 'echo-422' ? 422 : 503;
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        // A sender that gave up mid-body (its timeout, on a loaded machine) left no JSON here.
        let received: unknown = null;
        try {
          received = JSON.parse(body) as unknown;
        } catch {
          received = body;
        }
        res.end(JSON.stringify({ error: 'invalid batch', received }));
      });
    });
  }

  static async start(answer: Answer): Promise<ScriptedReceiver> {
    const receiver = new ScriptedReceiver(answer);
    await new Promise<void>((resolve) => receiver.#server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hooks`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

async function createDestination(t: TestApp, receiver: ScriptedReceiver, filter: string): Promise<string> {
  const res = await admin(t, 'POST', url(t, '/destinations'), {
    type: 'webhook',
    name: `hook ${uniqueId('d')}`,
    config: { url: receiver.url },
    filter,
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ id: string }>().id;
}

async function deliveries(
  t: TestApp,
  id: string,
  status: string,
  headers: Readonly<Record<string, string>> = t.adminHeaders,
): Promise<DeliveryView[]> {
  const res = await admin(
    t,
    'GET',
    url(t, `/destinations/${id}/deliveries?status=${status}`),
    undefined,
    headers,
  );
  assert.equal(res.statusCode, 200, res.body);
  return res.json<{ items: DeliveryView[] }>().items;
}

/** Waits for a delivery of the destination in `status` whose attempt's answer is recorded. */
const attempted = (t: TestApp, id: string, status: string): Promise<DeliveryView> =>
  eventually(
    async () =>
      (await deliveries(t, id, status)).find(
        (d) => d.attempts > 0 && (d.status === 'delivered' || d.lastError !== null),
      ),
    `a ${status} delivery`,
  );

describeEachStore('destinations: what receivers answer', (fixture) => {
  let handle: StoreHandle;
  let t: TestApp;
  const receivers: ScriptedReceiver[] = [];
  const start = async (answer: Answer): Promise<ScriptedReceiver> => {
    const receiver = await ScriptedReceiver.start(answer);
    receivers.push(receiver);
    return receiver;
  };

  before(async () => {
    handle = await fixture.fresh();
    t = await createTestApp(handle.store, { env: { CDP_EGRESS_ALLOW: '127.0.0.1' } });
  });
  after(async () => {
    await t.close();
    for (const receiver of receivers) await receiver.close();
  });

  it("keeps a delivery's HTTP status and reason, never the receiver's body", async () => {
    const refusing = await start('echo-422');
    const failing = await start('echo-503');
    const refused = await createDestination(t, refusing, 'event = "Refused"');
    const retried = await createDestination(t, failing, 'event = "Retried"');
    const person = uniqueId('uma');
    const email = `${person}.secret@bank.com`;
    await sendOk(t, 'batch', {
      batch: [
        { type: 'track', userId: person, event: 'Refused', properties: { email } },
        { type: 'track', userId: person, event: 'Retried', properties: { email } },
      ],
    });
    await drained(t);
    const failed = await attempted(t, refused, 'failed');
    const queued = await attempted(t, retried, 'queued');
    assert.ok(
      refusing.bodies.some((b) => b.includes(email)) && failing.bodies.some((b) => b.includes(email)),
    );

    assert.equal(failed.lastStatus, 422);
    assert.equal(queued.lastStatus, 503);
    for (const [delivery, status, reason] of [
      [failed, 422, 'Unprocessable Entity'],
      [queued, 503, 'Service Unavailable'],
    ] as const) {
      const text = delivery.lastError ?? '';
      assert.ok(text.startsWith(`HTTP ${status} ${reason}`), text);
      assert.match(text, /\d+ bytes/, 'the length of the body is kept');
      assert.match(text, /application\/json/, 'its type too');
      for (const data of [email, person, 'invalid batch', 'received'])
        assert.ok(!text.includes(data), `"${data}" is in the delivery's lastError: ${text}`);
    }
    // A viewer without PII access reads the failed-delivery list; the store holds the same text.
    const analyst = await signIn(t, (await memberUser(t, 'analyst')).email);
    const shown = await deliveries(t, refused, 'failed', analyst.headers);
    const stored = await handle.store.destinations.deliveries(t.workspace.id, refused, {
      status: 'failed',
      limit: 10,
    });
    for (const text of [...shown, ...stored].map((d) => d.lastError ?? ''))
      assert.ok(!text.includes(email) && !text.includes(person), text);
  });

  it("an erasure calls every destination that was sent the person's events, whatever it answered", async () => {
    const refusing = await start('echo-422');
    const failing = await start('echo-503');
    const silent = await start('hang-up');
    const accepting = await start('ok');
    const unrelated = await start('ok');
    const person = uniqueId('erase-me');
    const called = {
      refused: await createDestination(t, refusing, `userId = "${person}" and event = "Bought"`),
      retrying: await createDestination(t, failing, `userId = "${person}" and event = "Bought"`),
      unanswered: await createDestination(t, silent, `userId = "${person}" and event = "Bought"`),
      delivered: await createDestination(t, accepting, `userId = "${person}" and event = "Bought"`),
    };
    const notCalled = await createDestination(t, unrelated, 'event = "Something else"');
    await sendOk(t, 'batch', {
      batch: [
        { type: 'identify', userId: person, traits: { email: `${person}@example.com` } },
        { type: 'track', userId: person, event: 'Bought', properties: { sku: 'A1' } },
      ],
    });
    await drained(t);
    await attempted(t, called.refused, 'failed');
    await attempted(t, called.retrying, 'queued');
    await attempted(t, called.unanswered, 'queued');
    await attempted(t, called.delivered, 'delivered');
    for (const receiver of [refusing, failing, silent, accepting])
      assert.ok(
        receiver.bodies.some((b) => b.includes(person)),
        'each receiver got the event',
      );

    const erased = await privacyRequest(t, 'erase', { type: 'user_id', value: person });
    assert.equal(erased.status, 'completed', JSON.stringify(erased));
    assert.deepEqual(
      [...((erased.result?.['deletionCalls'] as string[] | undefined) ?? [])].sort(),
      Object.values(called).sort(),
    );
    assert.ok(!(erased.result?.['deletionCalls'] as string[]).includes(notCalled));
  });
});
