import assert from 'node:assert/strict';
import { it } from 'node:test';
import { send, sendOk, sharedStore, storedMessage, withApp } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { createManualClock } from '../support/test-app.ts';

// Segment's timestamps: the device clock may be wrong, but sentAt − originalTimestamp (time spent
// on the device before the flush) is right, so timestamp = receivedAt − (sentAt − originalTimestamp).
// A client `timestamp` is the originalTimestamp; without sentAt the given time is kept as is.

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();
/** A device clock 3 h 7 min behind the server. */
const DEVICE = NOW - (3 * 60 + 7) * 60_000;

interface Case {
  readonly name: string;
  readonly body: Record<string, unknown>;
  readonly expected: { timestamp: string; originalTimestamp?: string; sentAt?: string };
}

const CASES: readonly Case[] = [
  {
    name: 'no time at all: timestamp = receivedAt',
    body: {},
    expected: { timestamp: iso(NOW) },
  },
  {
    name: 'timestamp + sentAt: skew corrected, originalTimestamp keeps the device time',
    body: { timestamp: iso(DEVICE - 10_000), sentAt: iso(DEVICE) },
    expected: { timestamp: iso(NOW - 10_000), originalTimestamp: iso(DEVICE - 10_000), sentAt: iso(DEVICE) },
  },
  {
    name: 'originalTimestamp + sentAt: skew corrected',
    body: { originalTimestamp: iso(DEVICE - 2500), sentAt: iso(DEVICE) },
    expected: { timestamp: iso(NOW - 2500), originalTimestamp: iso(DEVICE - 2500), sentAt: iso(DEVICE) },
  },
  {
    name: 'a device clock ahead of the server is corrected too',
    body: { timestamp: iso(NOW + 86_400_000 - 700), sentAt: iso(NOW + 86_400_000) },
    expected: {
      timestamp: iso(NOW - 700),
      originalTimestamp: iso(NOW + 86_400_000 - 700),
      sentAt: iso(NOW + 86_400_000),
    },
  },
  {
    name: 'time zone offsets are honoured',
    body: { timestamp: '2026-01-15T10:00:00+02:00', sentAt: '2026-01-15T07:00:05-01:00' },
    expected: {
      timestamp: iso(NOW - 5000),
      originalTimestamp: '2026-01-15T08:00:00.000Z',
      sentAt: '2026-01-15T08:00:05.000Z',
    },
  },
  {
    name: 'timestamp without sentAt (historical import) is kept as given',
    body: { timestamp: '2025-03-01T08:30:00.000Z' },
    expected: { timestamp: '2025-03-01T08:30:00.000Z', originalTimestamp: '2025-03-01T08:30:00.000Z' },
  },
  {
    name: 'sentAt alone measures no skew: timestamp = receivedAt',
    body: { sentAt: iso(DEVICE) },
    expected: { timestamp: iso(NOW), sentAt: iso(DEVICE) },
  },
];

describeEachStore('tracking API timestamps', (fixture) => {
  const store = sharedStore(fixture);
  const app = async (fn: Parameters<typeof withApp>[2]): Promise<void> => {
    await withApp(await store(), { clock: createManualClock(NOW) }, fn);
  };

  for (const [index, { name, body, expected }] of CASES.entries()) {
    it(`single call: ${name}`, async () => {
      await app(async (t) => {
        const messageId = `ts-single-${index}`;
        await sendOk(t, 'track', { userId: 'u', event: 'Clock', messageId, ...body });
        const stored = await storedMessage(t, messageId);
        assert.equal(stored['receivedAt'], iso(NOW));
        assert.equal(stored['timestamp'], expected.timestamp);
        assert.equal(stored['originalTimestamp'], expected.originalTimestamp);
        assert.equal(stored['sentAt'], expected.sentAt);
      });
    });

    it(`batch item: ${name}`, async () => {
      await app(async (t) => {
        const messageId = `ts-batch-${index}`;
        await sendOk(t, 'batch', { batch: [{ type: 'identify', userId: 'u', messageId, ...body }] });
        const stored = await storedMessage(t, messageId);
        assert.equal(stored['timestamp'], expected.timestamp);
        assert.equal(stored['originalTimestamp'], expected.originalTimestamp);
      });
    });
  }

  it('batch-level sentAt applies to every item; an item sentAt wins', async () => {
    await app(async (t) => {
      await sendOk(t, 'batch', {
        sentAt: iso(DEVICE),
        batch: [
          { type: 'track', userId: 'u', event: 'A', messageId: 'bsent-1', timestamp: iso(DEVICE - 60_000) },
          { type: 'track', userId: 'u', event: 'B', messageId: 'bsent-2', timestamp: iso(DEVICE - 1000) },
          {
            type: 'track',
            userId: 'u',
            event: 'C',
            messageId: 'bsent-3',
            timestamp: iso(DEVICE - 1000),
            sentAt: iso(DEVICE + 4000),
          },
          { type: 'track', userId: 'u', event: 'D', messageId: 'bsent-4' },
        ],
      });
      assert.equal((await storedMessage(t, 'bsent-1'))['timestamp'], iso(NOW - 60_000));
      assert.equal((await storedMessage(t, 'bsent-2'))['timestamp'], iso(NOW - 1000));
      assert.equal((await storedMessage(t, 'bsent-3'))['timestamp'], iso(NOW - 5000));
      assert.equal((await storedMessage(t, 'bsent-4'))['timestamp'], iso(NOW));
    });
  });

  it('receivedAt follows the server clock between requests', async () => {
    const clock = createManualClock(NOW);
    await withApp(await store(), { clock }, async (t) => {
      await sendOk(t, 'track', {
        userId: 'u',
        event: 'E',
        messageId: 'clock-1',
        timestamp: iso(DEVICE),
        sentAt: iso(DEVICE),
      });
      clock.advance(90_000);
      await sendOk(t, 'track', {
        userId: 'u',
        event: 'E',
        messageId: 'clock-2',
        timestamp: iso(DEVICE),
        sentAt: iso(DEVICE),
      });
      const second = await storedMessage(t, 'clock-2');
      assert.equal((await storedMessage(t, 'clock-1'))['timestamp'], iso(NOW));
      assert.equal(second['receivedAt'], iso(NOW + 90_000));
      assert.equal(second['timestamp'], iso(NOW + 90_000));
    });
  });

  it('a timestamp without an offset means the same instant whatever the server time zone', {}, async () => {
    const stored: unknown[] = [];
    const previous = process.env['TZ'];
    try {
      for (const [n, zone] of ['UTC', 'America/New_York'].entries()) {
        process.env['TZ'] = zone;
        await app(async (t) => {
          const messageId = `ts-zone-${n}`;
          const res = await send(t, 'track', {
            userId: 'u',
            event: 'Zone',
            messageId,
            timestamp: '2026-01-15T10:00:00',
          });
          stored.push(
            res.statusCode === 200 ? (await storedMessage(t, messageId))['timestamp'] : res.statusCode,
          );
        });
      }
    } finally {
      if (previous === undefined) delete process.env['TZ'];
      else process.env['TZ'] = previous;
    }
    assert.equal(stored[1], stored[0]);
  });
});
