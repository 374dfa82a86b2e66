import { sql, type Kysely } from 'kysely';

/**
 * A store that a newer version of the platform migrated: after a rollback of an upgrade, say.
 * Kysely's own word for it ("corrupted migrations") sends the operator looking for damage.
 */
export class NewerSchemaError extends Error {
  readonly migrations: readonly string[];
  constructor(migrations: readonly string[]) {
    super(
      `the store was migrated by a newer version of the platform (it has migration ${migrations.join(', ')}, ` +
        'which this version does not know): run that version or a newer one, or restore a backup ' +
        'taken before the upgrade. Nothing was changed.',
    );
    this.name = 'NewerSchemaError';
    this.migrations = migrations;
  }
}

/** Throws NewerSchemaError if the store ran migrations that `known` does not list. */
export async function refuseNewerSchema(db: Kysely<unknown>, known: readonly string[]): Promise<void> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((t) => t.name === 'kysely_migration')) return;
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  const unknown = rows.map((r) => r.name).filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new NewerSchemaError(unknown);
}
