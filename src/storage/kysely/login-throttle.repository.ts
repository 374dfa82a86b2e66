import type { Kysely, Selectable } from 'kysely';
import type { LoginThrottleRepository } from '../../access/access.port.ts';
import type { ThrottleState } from '../../access/login-throttle.ts';
import type { Database } from '../database-schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';

const toState = (row: Selectable<Database['login_throttle']>): ThrottleState => ({
  failures: Number(row.failures),
  windowStartMs: Number(row.window_start_ms),
  lockedUntilMs: Number(row.locked_until_ms),
  lockouts: Number(row.lockouts),
  updatedMs: Number(row.updated_ms),
});

/** A placeholder row (see `update`) that no failure has filled in yet. */
const isBlank = (row: Selectable<Database['login_throttle']>): boolean => Number(row.updated_ms) === 0;

export class KyselyLoginThrottleRepository implements LoginThrottleRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
  ) {}

  async read(keys: readonly string[]): Promise<Map<string, ThrottleState>> {
    if (keys.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('login_throttle')
      .selectAll()
      .where('key', 'in', [...keys])
      .execute();
    return new Map(rows.filter((row) => !isBlank(row)).map((row) => [row.key, toState(row)]));
  }

  /**
   * Read-modify-write in one transaction that starts with a write: on SQLite that write takes
   * the database's write lock before the read (so two processes cannot both read the old count);
   * on PostgreSQL it makes sure the row exists, and FOR UPDATE then locks it.
   */
  async update(
    key: string,
    next: (current: ThrottleState | undefined) => ThrottleState,
  ): Promise<ThrottleState> {
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('login_throttle')
        .values({ key, failures: 0, window_start_ms: 0, locked_until_ms: 0, lockouts: 0, updated_ms: 0 })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      let select = trx.selectFrom('login_throttle').selectAll().where('key', '=', key);
      if (this.dialect === 'postgres') select = select.forUpdate();
      const row = await select.executeTakeFirstOrThrow();
      const state = next(isBlank(row) ? undefined : toState(row));
      await trx
        .updateTable('login_throttle')
        .set({
          failures: state.failures,
          window_start_ms: state.windowStartMs,
          locked_until_ms: state.lockedUntilMs,
          lockouts: state.lockouts,
          updated_ms: state.updatedMs,
        })
        .where('key', '=', key)
        .execute();
      return state;
    });
  }

  async delete(key: string): Promise<void> {
    await this.db.deleteFrom('login_throttle').where('key', '=', key).execute();
  }

  async prune(beforeMs: number): Promise<number> {
    const result = await this.db
      .deleteFrom('login_throttle')
      .where('updated_ms', '<', beforeMs)
      .where('locked_until_ms', '<', beforeMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
