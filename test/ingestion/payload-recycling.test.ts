import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { GroupCommitter } from '../../src/ingestion/group-committer.ts';
import { IngestionService } from '../../src/ingestion/ingestion.service.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import type { Source } from '../../src/workspaces/workspace-types.ts';
import type { EnvelopeBase } from '../../src/ingestion/decode-request.ts';
import { InlineRequestDecoder } from '../../src/ingestion/inline-request-decoder.ts';
import { PayloadBufferPool } from '../../src/ingestion/payload-buffer-pool.ts';
import type { DecodeStep } from '../../src/ingestion/request-decoder.port.ts';
import { WorkerPoolRequestDecoder } from '../../src/ingestion/workers/worker-pool-request-decoder.ts';

// Payload memory goes back to the decoder once the events are stored (payload-buffer-pool.ts):
// a later batch reuses it, and what the later batch stores must not depend on what the memory
// held before.

const BASE: EnvelopeBase = {
  workspaceId: 'ws',
  sourceId: 'src',
  receivedMs: Date.parse('2026-12-01T10:00:00.000Z'),
  ip: '203.0.113.9',
  captureIp: true,
};

function batchBody(events: number, padding: string): Uint8Array {
  const batch = Array.from({ length: events }, (_, i) => ({
    type: 'track',
    event: `Viewed ${i}`,
    userId: `user-${i}`,
    messageId: `m-${padding.length}-${i}`,
    properties: { note: padding },
    timestamp: '2026-12-01T09:59:00.000Z',
  }));
  return Buffer.from(JSON.stringify({ batch }));
}

const request = (raw: Uint8Array) => ({ raw, contentEncoding: undefined, route: 'batch' as const });

function payloadsOf(step: DecodeStep): Uint8Array {
  assert.equal(step.ok, true);
  if (step.ok !== true) throw new Error('not decoded');
  return step.batch.payloads;
}

describe('PayloadBufferPool', () => {
  it('hands out the smallest kept buffer that fits, and nothing when none fits', () => {
    const pool = new PayloadBufferPool();
    const small = new ArrayBuffer(2_000);
    const large = new ArrayBuffer(50_000);
    pool.give(large);
    pool.give(small);
    assert.equal(pool.take(60_000), undefined);
    assert.equal(pool.take(1_500), small);
    assert.equal(pool.take(1_500), large);
    assert.equal(pool.size, 0);
    assert.equal(pool.bytes, 0);
  });

  it('keeps at most its count and bytes, and ignores detached buffers', () => {
    const pool = new PayloadBufferPool(2, 10_000);
    pool.give(new ArrayBuffer(4_000));
    pool.give(new ArrayBuffer(7_000)); // over the byte cap: left to the collector
    pool.give(new ArrayBuffer(4_000));
    pool.give(new ArrayBuffer(1_000)); // over the count cap
    assert.equal(pool.size, 2);
    assert.equal(pool.bytes, 8_000);
    const detached = new ArrayBuffer(1_000);
    structuredClone(detached, { transfer: [detached] });
    const roomy = new PayloadBufferPool();
    roomy.give(detached);
    assert.equal(roomy.size, 0);
  });
});

describe('payload memory recycled by the decoders', () => {
  it('inline: the next batch is written into the returned memory, with exactly its own bytes', () => {
    const decoder = new InlineRequestDecoder();
    const first = payloadsOf(decoder.decodeSync(request(batchBody(50, 'x'.repeat(900))), BASE));
    const reference = Buffer.from(
      payloadsOf(new InlineRequestDecoder().decodeSync(request(batchBody(3, 'y')), BASE)),
    );
    decoder.recycle(first);
    decoder.recycle(first); // already had back: not kept twice
    decoder.recycle(new Uint8Array(100_000)); // never handed out: not taken
    assert.equal(decoder.buffers.size, 1);
    const second = payloadsOf(decoder.decodeSync(request(batchBody(3, 'y')), BASE));
    assert.equal(second.buffer, first.buffer, 'the returned memory is reused');
    assert.deepEqual(Buffer.from(second), reference);
    assert.equal(decoder.buffers.size, 0);
  });

  describe('worker pool', () => {
    const pool = new WorkerPoolRequestDecoder(1);
    after(() => pool.close());

    it('sends the memory back to the worker that wrote it; the batch after reuses it', async () => {
      const first = payloadsOf(await pool.decode(request(batchBody(50, 'x'.repeat(900))), BASE));
      const firstBytes = first.buffer.byteLength;
      assert.ok(firstBytes >= 16 * 1024);
      pool.recycle(first);
      // Returned at the end of this turn of the event loop: afterwards the views are gone.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(first.byteLength, 0);
      const second = payloadsOf(await pool.decode(request(batchBody(3, 'y')), BASE));
      assert.equal(second.buffer.byteLength, firstBytes, 'written into the returned memory');
      const reference = payloadsOf(new InlineRequestDecoder().decodeSync(request(batchBody(3, 'y')), BASE));
      assert.deepEqual(Buffer.from(second), Buffer.from(reference));
      // A fresh small batch gets memory of its own size: the reuse above was not a coincidence.
      const third = payloadsOf(await pool.decode(request(batchBody(3, 'z')), BASE));
      assert.ok(third.buffer.byteLength < firstBytes);
    });
  });
});

describe('payload memory recycled on the ack path', () => {
  it('comes back once the events are stored, and what was stored is intact', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cdp-recycle-'));
    const store = createSqliteStore({ filename: path.join(dir, 'cdp.sqlite') });
    try {
      await store.migrate();
      const decoder = new InlineRequestDecoder();
      const committer = new GroupCommitter({
        log: store.events,
        dedupWindowMs: 86_400_000,
        now: () => Date.now(),
        maxPendingEvents: 100_000,
      });
      const source: Source = {
        id: 'src',
        workspaceId: 'ws',
        name: 'web',
        type: 'http',
        writeKeyPrefix: 'wk_test',
        settings: { captureIp: true },
        createdMs: 0,
        keyRotatedMs: null,
        disabledMs: null,
      };
      const ingestion = new IngestionService({
        decoder,
        committer,
        clock: systemClock,
        authenticate: async (key) => (key === 'wk_test' ? source : undefined),
      });
      const ingest = (raw: Uint8Array) =>
        ingestion.ingest({
          route: 'batch',
          raw,
          contentEncoding: undefined,
          headerWriteKey: 'wk_test',
          ip: null,
        });
      assert.equal((await ingest(batchBody(20, 'a'.repeat(500)))).stored, 20);
      assert.equal(decoder.buffers.size, 1, "the first request's memory is back");
      assert.equal((await ingest(batchBody(5, 'b'))).stored, 5);
      assert.equal(decoder.buffers.size, 1, 'reused by the second, then back again');
      await committer.close();
      const stored = await store.events.readAfter(0, 100);
      assert.equal(stored.length, 25);
      for (const event of stored) {
        const payload = event.message as { messageId: string; properties: { note: string } };
        assert.equal(payload.messageId, event.messageId);
        assert.match(payload.properties.note, payload.messageId.startsWith('m-500-') ? /^a{500}$/ : /^b$/);
      }
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
