import type { Kysely } from 'kysely';
import type { MembershipRepository } from '../../access/access.port.ts';
import type { Membership, User } from '../../access/user-types.ts';
import type { Page } from '../../workspaces/workspaces.port.ts';
import type { Database } from '../database-schema.ts';
import { toMembership, toUser } from './row-mappers.ts';

export class KyselyMembershipRepository implements MembershipRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async add(membership: Membership): Promise<boolean> {
    const result = await this.db
      .insertInto('user_memberships')
      .values({
        user_id: membership.userId,
        workspace_id: membership.workspaceId,
        role: membership.role,
        pii: membership.pii,
        created_ms: membership.createdMs,
        updated_ms: membership.updatedMs,
      })
      .onConflict((oc) => oc.columns(['user_id', 'workspace_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async find(userId: string, workspaceId: string): Promise<Membership | undefined> {
    const row = await this.db
      .selectFrom('user_memberships')
      .selectAll()
      .where('user_id', '=', userId)
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
    return row ? toMembership(row) : undefined;
  }

  async update(
    userId: string,
    workspaceId: string,
    changes: { role?: Membership['role']; pii?: Membership['pii']; updatedMs: number },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('user_memberships')
      .set({
        updated_ms: changes.updatedMs,
        ...(changes.role === undefined ? {} : { role: changes.role }),
        ...(changes.pii === undefined ? {} : { pii: changes.pii }),
      })
      .where('user_id', '=', userId)
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async remove(userId: string, workspaceId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('user_memberships')
      .where('user_id', '=', userId)
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async listForUser(userId: string): Promise<Membership[]> {
    const rows = await this.db
      .selectFrom('user_memberships')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('workspace_id')
      .execute();
    return rows.map(toMembership);
  }

  async listForUsers(userIds: readonly string[]): Promise<Membership[]> {
    if (userIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('user_memberships')
      .selectAll()
      .where('user_id', 'in', [...userIds])
      .orderBy('user_id')
      .orderBy('workspace_id')
      .execute();
    return rows.map(toMembership);
  }

  async listForWorkspace(workspaceId: string, page: Page): Promise<{ membership: Membership; user: User }[]> {
    let query = this.db
      .selectFrom('user_memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select([
        'm.user_id',
        'm.workspace_id',
        'm.role',
        'm.pii',
        'm.created_ms as m_created_ms',
        'm.updated_ms as m_updated_ms',
        'u.id',
        'u.email',
        'u.instance_owner',
        'u.created_ms',
        'u.updated_ms',
        'u.disabled_ms',
        'u.last_login_ms',
      ])
      .where('m.workspace_id', '=', workspaceId)
      .orderBy('m.user_id')
      .limit(page.limit);
    if (page.afterId !== undefined) query = query.where('m.user_id', '>', page.afterId);
    return (await query.execute()).map((row) => ({
      membership: toMembership({ ...row, created_ms: row.m_created_ms, updated_ms: row.m_updated_ms }),
      user: toUser(row),
    }));
  }
}
