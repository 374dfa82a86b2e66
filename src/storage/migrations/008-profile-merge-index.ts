import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Which ids were merged into a profile: read by every profile view (`mergedIds`) and written
 * by every merge (chains are flattened). Without this index both scanned the workspace's
 * profiles, which made lookups and the pipeline slow down as profiles accumulate.
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createIndex('profiles_merged_into')
    .on('profiles')
    .columns(['workspace_id', 'merged_into'])
    .execute();
}
