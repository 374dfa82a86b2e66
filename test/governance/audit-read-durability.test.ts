import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator } from 'kysely';
import type { AuditFacts } from '../../src/governance/audit-log.ts';
import { AuditService } from '../../src/governance/audit.service.ts';
import type { Database } from '../../src/storage/database-schema.ts';
import { KyselyAuditLogRepository } from '../../src/storage/kysely/audit-log.repository.ts';
import { migrationProvider } from '../../src/storage/migrations/migration-list.ts';
import { MAIN_WRITE_LOCK_TABLE } from '../../src/storage/sqlite/log-file.ts';
import { LockWaitingSqliteDialect } from '../../src/storage/sqlite/lock-waiting-dialect.ts';
import { WalFileSync } from '../../src/storage/sqlite/wal-file-sync.ts';
import { describeEachStore } from '../support/stores.ts';

const FULL = 2;
const clock = { now: () => Date.now() };

const facts = (target: string, kind: 'read' | 'change'): Omit<AuditFacts, 'atMs'> => ({
  workspaceId: null,
  actor: { kind: 'instance_owner', tokenId: null, role: 'owner' },
  action: kind === 'read' ? 'GET /test' : 'POST /test',
  target,
  ip: null,
  details: { kind },
});

describeEachStore('audit entries of reads', (fixture) => {
  it('are committed when recordRead returns, and chain with changes appended at the same time', async () => {
    const handle = await fixture.fresh();
    const other = await handle.reopen();
    try {
      for (const readsWaitForDisk of [false, true]) {
        const audit = new AuditService({ auditLog: handle.store.auditLog, clock, readsWaitForDisk });
        const entries = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            i % 2 === 0
              ? audit.recordRead(facts(`${readsWaitForDisk}-${i}`, 'read'))
              : audit.record(facts(`${readsWaitForDisk}-${i}`, 'change')),
          ),
        );
        // Visible to another connection as soon as the caller could answer.
        const seen = await other.auditLog.list(null, { limit: 100 });
        for (const entry of entries)
          assert.ok(
            seen.some((s) => s.seq === entry.seq && s.hash === entry.hash),
            `entry ${entry.target} committed`,
          );
      }
      const verdict = await new AuditService({ auditLog: other.auditLog, clock }).verify();
      assert.deepEqual(verdict, { ok: true, entries: 40 });
    } finally {
      await other.close();
    }
  });
});

describe('audit entries of reads on SQLite: committed at once, flushed without being waited for', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cdp-audit-read-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * The real dialect and repository over a migrated file; the main WAL's fsync is the real one,
   * held back until `release()` (a disk slow to flush), and counted.
   */
  async function open(name: string, walPath?: string) {
    const file = path.join(dir, `${name}.sqlite`);
    const sqlite = new BetterSqlite3(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.exec(`CREATE TABLE ${MAIN_WRITE_LOCK_TABLE} (unused INTEGER)`);
    const wal = new WalFileSync(walPath ?? `${file}-wal`, 'the main database');
    let syncs = 0;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slowDisk = {
      sync: async () => {
        syncs += 1;
        await held;
        return wal.sync();
      },
    };
    const db = new Kysely<Database>({
      dialect: new LockWaitingSqliteDialect({ database: sqlite, offLoopCommits: { sqlite, wal: slowDisk } }),
    });
    const migrated = await new Migrator({
      db,
      provider: migrationProvider('sqlite'),
      allowUnorderedMigrations: true,
    }).migrateToLatest();
    assert.equal(migrated.error, undefined);
    release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    let holdAgain: () => void = () => undefined;
    const heldAgain = new Promise<void>((resolve) => (holdAgain = resolve));
    slowDisk.sync = async () => {
      syncs += 1;
      await heldAgain;
      return wal.sync();
    };
    const repository = new KyselyAuditLogRepository(db, 'sqlite', {
      sync: () => slowDisk.sync(),
      get failure() {
        return wal.failure;
      },
    });
    syncs = 0;
    return {
      sqlite,
      repository,
      syncs: () => syncs,
      release: holdAgain,
      close: async () => {
        holdAgain();
        await db.destroy();
        wal.close();
      },
    };
  }

  const settledWithin = async (promise: Promise<unknown>, ms: number): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const outcome = await Promise.race([promise.then(() => true), late]);
    clearTimeout(timer);
    return outcome;
  };

  it('a read returns while its fsync runs; a change waits for its own', async () => {
    const store = await open('slow-disk');
    try {
      const audit = new AuditService({ auditLog: store.repository, clock, readsWaitForDisk: false });
      const read = audit.recordRead(facts('read', 'read'));
      assert.equal(await settledWithin(read, 2_000), true, 'the read was not held by the fsync');
      assert.equal(store.syncs(), 1, 'its flush was started');
      assert.equal(store.sqlite.pragma('synchronous', { simple: true }), FULL);
      // Committed: another connection sees it while the disk has not flushed yet.
      const reader = new BetterSqlite3(store.sqlite.name, { readonly: true });
      assert.equal(reader.prepare(`select count(*) from audit_log where target = 'read'`).pluck().get(), 1);
      reader.close();

      const change = audit.record(facts('change', 'change'));
      assert.equal(await settledWithin(change, 300), false, 'a change is answered only once on disk');
      const strict = new AuditService({ auditLog: store.repository, clock });
      const strictRead = strict.recordRead(facts('strict read', 'read'));
      assert.equal(await settledWithin(strictRead, 300), false, 'by default a read waits for the disk');
      store.release();
      await change;
      await strictRead;
      assert.deepEqual(await audit.verify(), { ok: true, entries: 3 });
    } finally {
      await store.close();
    }
  });

  // Linux refuses fsync on a FIFO (EINVAL): a stand-in for a disk that failed to write.
  it('a read whose flush failed is answered; every durable commit after it fails', async () => {
    const fifo = path.join(dir, 'broken-wal');
    execFileSync('mkfifo', [fifo]);
    const store = await open('broken', fifo);
    store.release();
    try {
      const audit = new AuditService({ auditLog: store.repository, clock, readsWaitForDisk: false });
      await audit.recordRead(facts('read', 'read'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await assert.rejects(
        audit.record(facts('change', 'change')),
        /fsync of the main database failed \(EINVAL\); restart the server/,
      );
      await assert.rejects(
        audit.recordRead(facts('read again', 'read')),
        /fsync of the main database failed/,
      );
    } finally {
      await store.close();
    }
  });
});
