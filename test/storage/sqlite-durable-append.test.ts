import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GroupCommitter } from '../../src/ingestion/group-committer.ts';
import type { AcceptedEvent } from '../../src/ingestion/message-types.ts';
import { logFileOf } from '../../src/storage/sqlite/log-file.ts';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import type { Store } from '../../src/storage/store.ts';

const event = (n: number): AcceptedEvent => ({
  workspaceId: 'ws_durable',
  sourceId: 'src_durable',
  messageId: `m-${n}`,
  type: 'track',
  event: 'Tested',
  userId: `u-${n}`,
  anonymousId: null,
  timestampMs: 1_700_000_000_000 + n,
  receivedMs: Date.now(),
  payload: JSON.stringify({ type: 'track', event: 'Tested', userId: `u-${n}`, messageId: `m-${n}` }),
});

// The appender commits without fsync and acknowledges after the WAL's fsync, which runs off
// the event loop (storage/sqlite/wal-file-sync.ts): what is acknowledged is what was synced.
describe('SQLite appends acknowledged after the WAL fsync', () => {
  let dir: string;
  let file: string;
  let store: Store;
  const committed: number[][] = [];
  let committer: GroupCommitter;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cdp-durable-'));
    file = path.join(dir, 'cdp.sqlite');
    store = createSqliteStore({ filename: file });
    await store.migrate();
    committer = new GroupCommitter({
      log: store.events,
      dedupWindowMs: 86_400_000,
      now: () => Date.now(),
      maxPendingEvents: 100_000,
      onCommitted: (_events, seqs) => committed.push(seqs.filter((s): s is number => s !== null)),
    });
  });
  after(async () => {
    await committer.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('concurrent appends are each acknowledged once, announced in log order', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => committer.append([event(2 * i), event(2 * i + 1)])),
    );
    assert.ok(outcomes.every((o) => o.stored === 2));
    const announced = committed.flat();
    assert.equal(announced.length, 80);
    assert.deepEqual(
      announced,
      [...announced].sort((a, b) => a - b),
      'announced in log order',
    );
    const seqs = outcomes.flatMap((o) => o.seqs);
    assert.equal(new Set(seqs).size, 80);
    assert.equal(await store.events.countByWorkspace('ws_durable'), 80);
  });

  // Linux refuses fsync on a FIFO: put one where the WAL was (SQLite keeps writing to the file
  // it has open, the sync opens the path anew) to stand for a disk that failed to flush.
  it('a failed fsync is an error for the request, and nothing is acknowledged after it', async () => {
    // The log's own file (storage/sqlite/log-file.ts) is the one the ack path syncs.
    unlinkSync(`${logFileOf(file)}-wal`);
    execFileSync('mkfifo', [`${logFileOf(file)}-wal`]);
    await assert.rejects(committer.append([event(1000)]), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'storage.unavailable');
      return true;
    });
    await assert.rejects(committer.append([event(1001)]), { code: 'storage.unavailable' });
  });
});
