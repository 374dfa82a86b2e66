import { sql, type Kysely, type Selectable } from 'kysely';
import type { AuditEntry, AuditFacts, AuditLogRepository } from '../../governance/audit-log.ts';
import { GENESIS_HASH } from '../../governance/audit-log.ts';
import type { Database } from '../database-schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import { CompiledOnce } from './compiled-once.ts';
import { writeTransaction, type Db } from './workspace-write.ts';

const HEAD_KEY = 'audit.head';
const AUDIT_LOCK = 7_270_002;

type AuditRow = Omit<Selectable<Database['audit_log']>, 'seq'>;

// Every audited read appends an entry: its three statements compiled once (compiled-once.ts).
const chainEnd = (): CompiledOnce<Record<never, never>, { hash: string }> =>
  new CompiledOnce((db) => db.selectFrom('audit_log').select('hash').orderBy('seq', 'desc').limit(1));
const insertEntry = (): CompiledOnce<AuditRow, { seq: number | string }> =>
  new CompiledOnce((db, param) =>
    db
      .insertInto('audit_log')
      .values({
        workspace_id: param('workspace_id'),
        at_ms: param('at_ms'),
        actor: param('actor'),
        action: param('action'),
        target: param('target'),
        ip: param('ip'),
        details: param('details'),
        prev_hash: param('prev_hash'),
        hash: param('hash'),
      })
      .returning('seq'),
  );
const setHead = (): CompiledOnce<{ readonly value: string }, unknown> =>
  new CompiledOnce((db, param) =>
    db
      .insertInto('instance_state')
      .values({ key: HEAD_KEY, value: param('value') })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: param('value') })),
  );

const toEntry = (row: Selectable<Database['audit_log']>): AuditEntry => ({
  seq: Number(row.seq),
  workspaceId: row.workspace_id,
  atMs: Number(row.at_ms),
  actor: JSON.parse(row.actor),
  action: row.action,
  target: row.target,
  ip: row.ip,
  details: JSON.parse(row.details),
  prevHash: row.prev_hash,
  hash: row.hash,
});

/** The fsync of SQLite's main file (storage/sqlite/wal-file-sync.ts). */
export interface MainFileFlush {
  sync(): Promise<void>;
  readonly failure: Error | undefined;
}

export class KyselyAuditLogRepository implements AuditLogRepository {
  readonly #chainEnd = chainEnd();
  readonly #insertEntry = insertEntry();
  readonly #setHead = setHead();
  /**
   * `mainFile`: SQLite, the fsync of the main file's WAL (absent in memory). PostgreSQL needs
   * none: its WAL writer flushes a commit made with `synchronous_commit = off` within
   * `wal_writer_delay` (200 ms by default, at most three times that).
   */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
    private readonly mainFile?: MainFileFlush,
  ) {}

  async append(
    facts: AuditFacts,
    hash: (prevHash: string) => string,
    options: { readonly waitForDisk?: boolean } = {},
  ): Promise<AuditEntry> {
    if (options.waitForDisk ?? true)
      return this.db.transaction().execute((trx) => this.#append(trx, facts, hash));
    // After a failed fsync nothing is answered as recorded (wal-file-sync.ts), reads included.
    const failure = this.mainFile?.failure;
    if (failure !== undefined) throw failure;
    const entry = await writeTransaction(this.db, this.dialect, (trx) => this.#append(trx, facts, hash), {
      flushedByCaller: true,
    });
    // A failed fsync is not lost: it is kept, and every commit after it fails.
    this.mainFile?.sync().catch(() => undefined);
    return entry;
  }

  async #append(trx: Db, facts: AuditFacts, hash: (prevHash: string) => string): Promise<AuditEntry> {
    // One appender at a time across processes, so the chain never forks.
    if (this.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`.execute(trx);
    // SQLite: write transactions hold the write lock from their start (the lock-waiting
    // dialect, workspace-write.ts), so reading the chain's end first cannot race another
    // process's append.
    const last = await this.#chainEnd.first(trx, {});
    const prevHash = last?.hash ?? GENESIS_HASH;
    const entryHash = hash(prevHash);
    const inserted = await this.#insertEntry.first(trx, {
      workspace_id: facts.workspaceId,
      at_ms: facts.atMs,
      actor: JSON.stringify(facts.actor),
      action: facts.action,
      target: facts.target,
      ip: facts.ip,
      details: JSON.stringify(facts.details),
      prev_hash: prevHash,
      hash: entryHash,
    });
    if (inserted === undefined) throw new Error('audit entry: the insert returned no row');
    const seq = Number(inserted.seq);
    await this.#setHead.run(trx, { value: JSON.stringify({ seq, hash: entryHash }) });
    return { ...facts, seq, prevHash, hash: entryHash };
  }

  async head(): Promise<{ seq: number; hash: string } | undefined> {
    const row = await this.db
      .selectFrom('instance_state')
      .select('value')
      .where('key', '=', HEAD_KEY)
      .executeTakeFirst();
    return row ? (JSON.parse(row.value) as { seq: number; hash: string }) : undefined;
  }

  async list(
    workspaceId: string | null,
    options: { beforeSeq?: number | undefined; limit: number },
  ): Promise<AuditEntry[]> {
    let query = this.db
      .selectFrom('audit_log')
      .selectAll()
      .where('workspace_id', workspaceId === null ? 'is' : '=', workspaceId);
    if (options.beforeSeq !== undefined) query = query.where('seq', '<', options.beforeSeq);
    return (await query.orderBy('seq', 'desc').limit(options.limit).execute()).map(toEntry);
  }

  async readAll(afterSeq: number, limit: number): Promise<AuditEntry[]> {
    const rows = await this.db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(toEntry);
  }
}
