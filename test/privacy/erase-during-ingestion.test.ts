/**
 * Erasures while events keep arriving. On SQLite the log is a file of its own that the ack path
 * appends to on its own connection; an erasure reads the person's events there and deletes
 * them. Without the log's write lock taken up front, an append committed between that read and
 * that delete made the erasure fail (SQLITE_BUSY_SNAPSHOT), with its events gone and the
 * profile left (found by a QA pass: 4 erasures in 6 failed under load). The interleaving is
 * up to the event loop: on the previous code this failed in one run of three here, not always.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { admin, sendOk, withApp } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { drained, eventually, lookup, url, type RequestView } from './privacy-helpers.ts';

const ERASURES = 5;

describeEachStore('erasures while events are ingested', (fixture) => {
  it('all complete, and leave nothing of the people they erased', { timeout: 1_200_000 }, async () => {
    const handle = await fixture.fresh();
    await withApp(handle.store, {}, async (t) => {
      const people = Array.from({ length: ERASURES }, (_, i) => `erased-${i}`);
      for (const person of people)
        await sendOk(t, 'batch', {
          batch: Array.from({ length: 40 }, (_, n) => ({
            type: 'track',
            userId: person,
            event: 'Viewed',
            properties: { n },
            ...(n === 0 ? { context: { traits: { email: `${person}@example.com` } } } : {}),
          })),
        });
      await drained(t);

      // Others' events keep coming, batch after batch, through every erasure.
      let ingesting = true;
      let sent = 0;
      const load = (async () => {
        while (ingesting) {
          await sendOk(t, 'batch', {
            batch: Array.from({ length: 100 }, (_, n) => ({
              type: 'track',
              userId: `bystander-${sent % 97}`,
              event: 'Viewed',
              properties: { n },
            })),
          });
          sent += 1;
          // Steady, not flat out: an erasure waits for the pipeline to catch up.
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      try {
        for (const person of people) {
          const created = await admin(t, 'POST', url(t, '/privacy-requests'), {
            type: 'erase',
            identifier: { type: 'user_id', value: person },
          });
          assert.equal(created.statusCode, 202, created.body);
          const id = created.json<RequestView>().id;
          // A loaded machine (CI) processes slowly: the erasure runs once the pipeline caught up.
          const erased = await eventually(
            async () => {
              const view = (await admin(t, 'GET', url(t, `/privacy-requests/${id}`))).json<RequestView>();
              return view.status === 'completed' || view.status === 'failed' ? view : undefined;
            },
            `erasure of ${person}`,
            180_000,
          );
          assert.equal(erased.status, 'completed', JSON.stringify(erased));
        }
      } finally {
        ingesting = false;
        await load;
      }
      assert.ok(sent >= ERASURES, `events were ingested during the erasures (${sent} batches)`);
      await drained(t);
      for (const person of people) {
        assert.equal(await lookup(t, 'user_id', person), undefined, `${person} is gone`);
        assert.equal(await lookup(t, 'email', `${person}@example.com`), undefined);
      }
    });
  });
});
