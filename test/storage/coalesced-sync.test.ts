import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoalescedSync } from '../../src/storage/sqlite/coalesced-sync.ts';
import { WalFileSync } from '../../src/storage/sqlite/wal-file-sync.ts';

describe('fsyncs shared between commits that do not wait for theirs', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cdp-coalesced-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The real fsync of a file, each one held until the test lets it go, and counted. */
  function heldDisk(file: string) {
    const wal = new WalFileSync(file, 'the main database');
    const held: (() => void)[] = [];
    let started = 0;
    return {
      wal,
      started: () => started,
      /** Lets the oldest held fsync run. */
      releaseOne: () => held.shift()?.(),
      sync: async () => {
        started += 1;
        await new Promise<void>((resolve) => held.push(resolve));
        return wal.sync();
      },
    };
  }

  const settled = (promise: Promise<unknown>): Promise<boolean> =>
    Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 50)),
    ]);

  it('callers arriving while an fsync runs share the single next one', async () => {
    const file = path.join(dir, 'burst');
    writeFileSync(file, 'x');
    const disk = heldDisk(file);
    const shared = new CoalescedSync(disk);
    try {
      const first = shared.sync();
      const burst = Array.from({ length: 50 }, () => shared.sync());
      assert.equal(disk.started(), 1, 'one fsync at a time');
      disk.releaseOne();
      await first;
      // Started before the burst's writes, the first fsync does not cover them.
      assert.equal(await settled(Promise.all(burst)), false);
      for (let i = 0; i < 20 && disk.started() < 2; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(disk.started(), 2, 'the whole burst shares one fsync');
      disk.releaseOne();
      await Promise.all(burst);
      assert.equal(disk.started(), 2);
      // Nothing running: the next caller starts its own at once.
      const later = shared.sync();
      assert.equal(disk.started(), 3);
      disk.releaseOne();
      await later;
    } finally {
      disk.wal.close();
    }
  });

  // Linux refuses fsync on a FIFO (EINVAL): a stand-in for a disk that failed to write.
  it('a failed fsync fails every caller that shared it, and the ones after', async () => {
    const fifo = path.join(dir, 'broken');
    execFileSync('mkfifo', [fifo]);
    const shared = new CoalescedSync(new WalFileSync(fifo, 'the main database'));
    const calls = [shared.sync(), shared.sync(), shared.sync()];
    for (const call of calls) await assert.rejects(call, /fsync of the main database failed \(EINVAL\)/);
    await assert.rejects(shared.sync(), /fsync of the main database failed/);
  });
});
