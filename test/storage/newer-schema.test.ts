/**
 * A store migrated by a newer version (a rolled-back upgrade): this version refuses it with a
 * message that says so, from the store and from `cdp migrate`, and changes nothing.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { NewerSchemaError } from '../../src/storage/migrations/newer-schema.ts';
import { runCdp } from '../e2e/server-process.ts';
import { describeEachStore, type StoreHandle } from '../support/stores.ts';

const FUTURE = '999-from-a-newer-version';

async function addFutureMigration(handle: StoreHandle): Promise<void> {
  const url = handle.env['CDP_DATABASE_URL'];
  if (url === undefined) {
    const db = new BetterSqlite3(path.join(handle.env['CDP_DATA_DIR'] ?? '', 'cdp.sqlite'));
    db.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run(
      FUTURE,
      new Date().toISOString(),
    );
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('insert into kysely_migration (name, timestamp) values ($1, $2)', [
    FUTURE,
    new Date().toISOString(),
  ]);
  await client.end();
}

async function workspaceCount(handle: StoreHandle): Promise<number> {
  const url = handle.env['CDP_DATABASE_URL'];
  if (url === undefined) {
    const db = new BetterSqlite3(path.join(handle.env['CDP_DATA_DIR'] ?? '', 'cdp.sqlite'), {
      readonly: true,
    });
    const { n } = db.prepare('select count(*) as n from workspaces').get() as { n: number };
    db.close();
    return n;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ n: string }>('select count(*) as n from workspaces');
  await client.end();
  return Number(rows[0]?.n);
}

describeEachStore('a store migrated by a newer version', (fixture) => {
  it('is refused with a message that says so; nothing is changed', { timeout: 60_000 }, async () => {
    const handle = await fixture.fresh();
    await handle.store.workspaces.create({ id: 'ws_keep', slug: 'keep', name: 'Keep', createdMs: 0 });
    await handle.store.close();
    await addFutureMigration(handle);

    await assert.rejects(handle.reopen(), (error: unknown) => {
      assert.ok(error instanceof NewerSchemaError, String(error));
      assert.deepEqual(error.migrations, [FUTURE]);
      assert.match(error.message, /migrated by a newer version of the platform/);
      return true;
    });
    const cli = await runCdp(['migrate'], handle.env);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, new RegExp(`newer version of the platform \\(it has migration ${FUTURE}`));
    assert.match(cli.stderr, /restore a backup/);
    assert.doesNotMatch(cli.stderr, /corrupted/);
    assert.equal(await workspaceCount(handle), 1, 'the data is still there');
  });
});
