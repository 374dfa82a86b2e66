import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WalFileSync } from '../../src/storage/sqlite/wal-file-sync.ts';

describe('WAL fsync off the event loop', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cdp-wal-sync-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('syncs an existing file', async () => {
    const file = path.join(dir, 'log.sqlite-wal');
    writeFileSync(file, 'frames');
    const wal = new WalFileSync(file);
    try {
      await wal.sync();
      await wal.sync();
    } finally {
      wal.close();
    }
  });

  it('a missing WAL is an error, not a silent success', async () => {
    const wal = new WalFileSync(path.join(dir, 'missing-wal'));
    await assert.rejects(wal.sync(), /ENOENT/);
  });

  // Linux refuses fsync on a FIFO (EINVAL): a stand-in for a disk that failed to write.
  it('after one failed fsync, nothing is acknowledged again', async () => {
    const fifo = path.join(dir, 'fifo-wal');
    execFileSync('mkfifo', [fifo]);
    const wal = new WalFileSync(fifo);
    try {
      await assert.rejects(wal.sync(), /fsync of the event log failed \(EINVAL\); restart the server/);
      await assert.rejects(wal.sync(), /fsync of the event log failed/);
    } finally {
      wal.close();
    }
  });
});
