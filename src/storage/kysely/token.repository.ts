import type { Kysely } from 'kysely';
import type { Page, TokenRepository } from '../../workspaces/workspaces.port.ts';
import type { ApiToken } from '../../workspaces/workspace-types.ts';
import type { Database } from '../database-schema.ts';
import type { ReadRouting } from './read-routing.ts';
import { toToken } from './row-mappers.ts';

export class KyselyTokenRepository implements TokenRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly reads: ReadRouting = () => db,
  ) {}

  async create(token: ApiToken, tokenHash: string): Promise<void> {
    await this.db
      .insertInto('api_tokens')
      .values({
        id: token.id,
        workspace_id: token.workspaceId,
        name: token.name,
        role: token.role,
        token_hash: tokenHash,
        token_prefix: token.tokenPrefix,
        created_ms: token.createdMs,
        revoked_ms: token.revokedMs,
      })
      .execute();
  }

  async findByHash(hash: string): Promise<ApiToken | undefined> {
    const row = await this.reads()
      .selectFrom('api_tokens')
      .selectAll()
      .where('token_hash', '=', hash)
      .executeTakeFirst();
    return row ? toToken(row) : undefined;
  }

  async list(workspaceId: string | null, page: Page): Promise<ApiToken[]> {
    let query = this.db.selectFrom('api_tokens').selectAll().orderBy('id').limit(page.limit);
    query =
      workspaceId === null
        ? query.where('workspace_id', 'is', null)
        : query.where('workspace_id', '=', workspaceId);
    if (page.afterId !== undefined) query = query.where('id', '>', page.afterId);
    return (await query.execute()).map(toToken);
  }

  async revoke(workspaceId: string | null, id: string, revokedMs: number): Promise<boolean> {
    let query = this.db
      .updateTable('api_tokens')
      .set({ revoked_ms: revokedMs })
      .where('id', '=', id)
      .where('revoked_ms', 'is', null);
    query =
      workspaceId === null
        ? query.where('workspace_id', 'is', null)
        : query.where('workspace_id', '=', workspaceId);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
