/** Every row of every table of a test store, as text: what scans for personal data read. */
import { logFileOf } from '../../src/storage/sqlite/log-file.ts';
import BetterSqlite3 from 'better-sqlite3';
import path from 'node:path';
import pg from 'pg';
import type { StoreHandle } from '../support/stores.ts';

/** Every row of every table, as text, per table. */
export async function dumpAll(handle: StoreHandle): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (handle.env['CDP_DATABASE_URL'] !== undefined) {
    const client = new pg.Client({ connectionString: handle.env['CDP_DATABASE_URL'] });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
      );
      for (const { table_name: table } of tables.rows) {
        const rows = await client.query(`SELECT * FROM "${table}"`);
        out.set(
          table,
          rows.rows.map((r) => JSON.stringify(r)),
        );
      }
    } finally {
      await client.end();
    }
    return out;
  }
  // Both files of the embedded store: the event log has its own (storage/sqlite/log-file.ts).
  const main = path.join(handle.env['CDP_DATA_DIR'] ?? '', 'cdp.sqlite');
  for (const file of [main, logFileOf(main)]) {
    const db = new BetterSqlite3(file, { readonly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
        name: string;
      }[];
      for (const { name } of tables)
        out.set(name, [
          ...(out.get(name) ?? []),
          ...(db.prepare(`SELECT * FROM "${name}"`).all() as object[]).map((r) => JSON.stringify(r)),
        ]);
    } finally {
      db.close();
    }
  }
  return out;
}

/** `enc:v1:<key>:<base64url>` (pii-vault.ts) and `type:#<keyed hash>` (pii-sealing.ts). */
const SEALED_OR_HASHED = /enc:v1:[\w-]+:[\w-]+|:#[\w-]+/g;

export function findNeedles(
  dump: Map<string, string[]>,
  needles: readonly string[],
  allowInAudit: readonly string[],
) {
  const found: string[] = [];
  for (const [table, rows] of dump)
    for (const row of rows) {
      // Sealed values and keyed hashes are random letters: a short needle ("Lyon") matched
      // inside one now and then, case-insensitively. Plain text is never inside them.
      const text = row.replace(SEALED_OR_HASHED, '');
      for (const needle of needles) {
        if (table === 'audit_log' && allowInAudit.includes(needle)) continue;
        if (text.toLowerCase().includes(needle.toLowerCase()))
          found.push(`${table}: ${needle} in ${row.slice(0, 300)}`);
      }
    }
  return found;
}
