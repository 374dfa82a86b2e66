import type { SourceService } from '../workspaces/source.service.ts';
import type { TokenService } from '../workspaces/token.service.ts';
import type { WorkspaceService } from '../workspaces/workspace.service.ts';
import type { InstanceStateRepository } from '../workspaces/workspaces.port.ts';
import type { Source, Workspace } from '../workspaces/workspace-types.ts';

export type BootstrapResult =
  | {
      readonly firstStart: true;
      readonly workspace: Workspace;
      readonly source: Source;
      readonly writeKey: string;
      readonly adminToken: string;
    }
  | {
      readonly firstStart: false;
      readonly workspace: Workspace | undefined;
      readonly source: Source | undefined;
    };

const BOOTSTRAP_KEY = 'bootstrap.workspace_id';
const DEFAULT_SLUG = 'default';

/**
 * On the first start: a default workspace, an HTTP source and an instance owner token, whose
 * secrets are printed once. The marker is written last and every step tolerates what an
 * interrupted earlier attempt (or a `cdp workspace create Default`) left behind, so a crash
 * half-way never locks the instance out: the next start simply finishes the job.
 */
export async function bootstrapInstance(deps: {
  instance: InstanceStateRepository;
  workspaces: WorkspaceService;
  sources: SourceService;
  tokens: TokenService;
}): Promise<BootstrapResult> {
  const existing = await deps.instance.get(BOOTSTRAP_KEY);
  if (existing !== undefined) {
    const workspace = await deps.workspaces.get(existing).catch(() => undefined);
    const source = workspace ? (await deps.sources.list(workspace.id, { limit: 1 }))[0] : undefined;
    return { firstStart: false, workspace, source };
  }
  const workspace =
    (await deps.workspaces.get(DEFAULT_SLUG).catch(() => undefined)) ??
    (await deps.workspaces.create({ name: 'Default', slug: DEFAULT_SLUG }));
  // Secrets are stored hashed, so a resumed bootstrap mints a fresh source key to show.
  const { source, writeKey } = await deps.sources.create(workspace.id, {
    name: 'Default HTTP source',
    type: 'http',
  });
  const { secret } = await deps.tokens.create(null, { name: 'bootstrap instance owner', role: 'owner' });
  await deps.instance.setIfAbsent(BOOTSTRAP_KEY, workspace.id);
  return { firstStart: true, workspace, source, writeKey, adminToken: secret };
}
