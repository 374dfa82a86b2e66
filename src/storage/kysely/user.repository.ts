import type { Kysely } from 'kysely';
import type { UserChanges, UserRepository } from '../../access/access.port.ts';
import type { User } from '../../access/user-types.ts';
import type { Page } from '../../workspaces/workspaces.port.ts';
import type { Database } from '../database-schema.ts';
import { toUser } from './row-mappers.ts';

/** Columns of a user without the password hash: only sign-in reads that. */
const USER_COLUMNS = [
  'id',
  'email',
  'instance_owner',
  'created_ms',
  'updated_ms',
  'disabled_ms',
  'last_login_ms',
] as const;

export class KyselyUserRepository implements UserRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(user: User, passwordHash: string): Promise<boolean> {
    const result = await this.db
      .insertInto('users')
      .values({
        id: user.id,
        email: user.email,
        password_hash: passwordHash,
        instance_owner: user.instanceOwner ? 1 : 0,
        created_ms: user.createdMs,
        updated_ms: user.updatedMs,
        disabled_ms: user.disabledMs,
        last_login_ms: user.lastLoginMs,
      })
      .onConflict((oc) => oc.column('email').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async find(id: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(USER_COLUMNS)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toUser(row) : undefined;
  }

  async findByEmail(email: string): Promise<{ user: User; passwordHash: string } | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    return row ? { user: toUser(row), passwordHash: row.password_hash } : undefined;
  }

  async list(page: Page): Promise<User[]> {
    let query = this.db.selectFrom('users').select(USER_COLUMNS).orderBy('id').limit(page.limit);
    if (page.afterId !== undefined) query = query.where('id', '>', page.afterId);
    return (await query.execute()).map(toUser);
  }

  async any(): Promise<boolean> {
    return (await this.db.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;
  }

  async update(id: string, changes: UserChanges): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set({
        updated_ms: changes.updatedMs,
        ...(changes.disabledMs === undefined ? {} : { disabled_ms: changes.disabledMs }),
        ...(changes.instanceOwner === undefined ? {} : { instance_owner: changes.instanceOwner ? 1 : 0 }),
        ...(changes.passwordHash === undefined ? {} : { password_hash: changes.passwordHash }),
      })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async recordLogin(id: string, atMs: number): Promise<void> {
    await this.db.updateTable('users').set({ last_login_ms: atMs }).where('id', '=', id).execute();
  }
}
