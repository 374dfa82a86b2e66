import type { Kysely } from 'kysely';
import type { Page, SourceRepository } from '../../workspaces/workspaces.port.ts';
import type { Source, SourceSettings } from '../../workspaces/workspace-types.ts';
import type { Database } from '../database-schema.ts';
import type { ReadRouting } from './read-routing.ts';
import { toSource } from './row-mappers.ts';

export class KyselySourceRepository implements SourceRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly reads: ReadRouting = () => db,
  ) {}

  async create(source: Source, writeKeyHash: string): Promise<void> {
    await this.db
      .insertInto('sources')
      .values({
        id: source.id,
        workspace_id: source.workspaceId,
        name: source.name,
        type: source.type,
        write_key_hash: writeKeyHash,
        write_key_prefix: source.writeKeyPrefix,
        settings: JSON.stringify(source.settings),
        created_ms: source.createdMs,
        key_rotated_ms: source.keyRotatedMs,
        disabled_ms: source.disabledMs,
      })
      .execute();
  }

  async findByWriteKeyHash(hash: string): Promise<Source | undefined> {
    const row = await this.db
      .selectFrom('sources')
      .selectAll()
      .where('write_key_hash', '=', hash)
      .executeTakeFirst();
    return row ? toSource(row) : undefined;
  }

  async find(workspaceId: string, id: string): Promise<Source | undefined> {
    const row = await this.db
      .selectFrom('sources')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toSource(row) : undefined;
  }

  async list(workspaceId: string, page: Page): Promise<Source[]> {
    let query = this.reads()
      .selectFrom('sources')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('id')
      .limit(page.limit);
    if (page.afterId !== undefined) query = query.where('id', '>', page.afterId);
    return (await query.execute()).map(toSource);
  }

  async replaceWriteKey(
    workspaceId: string,
    id: string,
    hash: string,
    prefix: string,
    rotatedMs: number,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('sources')
      .set({ write_key_hash: hash, write_key_prefix: prefix, key_rotated_ms: rotatedMs })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async update(
    workspaceId: string,
    id: string,
    changes: { name?: string; settings?: SourceSettings; disabledMs?: number | null },
  ): Promise<boolean> {
    const set: { name?: string; settings?: string; disabled_ms?: number | null } = {};
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.settings !== undefined) set.settings = JSON.stringify(changes.settings);
    if (changes.disabledMs !== undefined) set.disabled_ms = changes.disabledMs;
    if (Object.keys(set).length === 0) return (await this.find(workspaceId, id)) !== undefined;
    const result = await this.db
      .updateTable('sources')
      .set(set)
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
