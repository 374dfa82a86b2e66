import type { Kysely } from 'kysely';
import type { SetupCodeRepository } from '../../access/access.port.ts';
import type { Database } from '../database-schema.ts';

const KEY = 'setup.code_hash';

/** The one-time setup code's hash, kept in instance_state. */
export class KyselySetupCodeRepository implements SetupCodeRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async put(codeHash: string): Promise<void> {
    await this.db
      .insertInto('instance_state')
      .values({ key: KEY, value: codeHash })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: codeHash }))
      .execute();
  }

  /** One DELETE matching key and hash: of concurrent redemptions, exactly one deletes the row. */
  async consume(codeHash: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('instance_state')
      .where('key', '=', KEY)
      .where('value', '=', codeHash)
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async clear(): Promise<void> {
    await this.db.deleteFrom('instance_state').where('key', '=', KEY).execute();
  }
}
