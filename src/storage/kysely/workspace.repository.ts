import type { Kysely, Selectable } from 'kysely';
import type { InstanceStateRepository, Page, WorkspaceRepository } from '../../workspaces/workspaces.port.ts';
import type { Workspace } from '../../workspaces/workspace-types.ts';
import type { Database } from '../database-schema.ts';
import { CompiledOnce } from './compiled-once.ts';
import type { ReadRouting } from './read-routing.ts';
import { toWorkspace } from './row-mappers.ts';

// Every admin request with a workspace in its path resolves it (compiled-once.ts).
const byIdOrSlug = (): CompiledOnce<{ readonly idOrSlug: string }, Selectable<Database['workspaces']>> =>
  new CompiledOnce((db, param) =>
    db
      .selectFrom('workspaces')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', param('idOrSlug')), eb('slug', '=', param('idOrSlug'))])),
  );

export class KyselyWorkspaceRepository implements WorkspaceRepository {
  readonly #byIdOrSlug = byIdOrSlug();
  constructor(
    private readonly db: Kysely<Database>,
    private readonly reads: ReadRouting = () => db,
  ) {}

  async create(workspace: Workspace): Promise<boolean> {
    const result = await this.db
      .insertInto('workspaces')
      .values({
        id: workspace.id,
        slug: workspace.slug,
        name: workspace.name,
        created_ms: workspace.createdMs,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async findByIdOrSlug(idOrSlug: string): Promise<Workspace | undefined> {
    const row = await this.#byIdOrSlug.first(this.reads(), { idOrSlug });
    return row ? toWorkspace(row) : undefined;
  }

  async list(page: Page): Promise<Workspace[]> {
    let query = this.db.selectFrom('workspaces').selectAll().orderBy('id').limit(page.limit);
    if (page.afterId !== undefined) query = query.where('id', '>', page.afterId);
    return (await query.execute()).map(toWorkspace);
  }
}

export class KyselyInstanceStateRepository implements InstanceStateRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async get(key: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('instance_state')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst();
    return row?.value;
  }

  async setIfAbsent(key: string, value: string): Promise<boolean> {
    const result = await this.db
      .insertInto('instance_state')
      .values({ key, value })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async compareAndSet(key: string, expected: string, value: string): Promise<boolean> {
    const result = await this.db
      .updateTable('instance_state')
      .set({ value })
      .where('key', '=', key)
      .where('value', '=', expected)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
