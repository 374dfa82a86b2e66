import type { Kysely } from 'kysely';
import type { WorkspaceSettingsRepository } from '../../workspaces/workspaces.port.ts';
import type { Database } from '../database-schema.ts';
import type { ReadRouting } from './read-routing.ts';

export class KyselyWorkspaceSettingsRepository implements WorkspaceSettingsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    /** Told when this process changes a workspace's settings (its PII classification among them). */
    private readonly changed: (workspaceId: string) => void = () => undefined,
    private readonly reads: ReadRouting = () => db,
  ) {}

  async get(workspaceId: string, name: string): Promise<unknown> {
    const row = await this.reads()
      .selectFrom('workspace_settings')
      .select('value')
      .where('workspace_id', '=', workspaceId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : (JSON.parse(row.value) as unknown);
  }

  async put(workspaceId: string, name: string, value: unknown, nowMs: number): Promise<void> {
    await this.db
      .insertInto('workspace_settings')
      .values({ workspace_id: workspaceId, name, value: JSON.stringify(value), updated_ms: nowMs })
      .onConflict((oc) =>
        oc.columns(['workspace_id', 'name']).doUpdateSet((eb) => ({
          value: eb.ref('excluded.value'),
          updated_ms: eb.ref('excluded.updated_ms'),
        })),
      )
      .execute();
    this.changed(workspaceId);
  }
}
