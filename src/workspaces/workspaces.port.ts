import type { ApiToken, Source, SourceSettings, Workspace } from './workspace-types.ts';

export interface Page {
  readonly limit: number;
  /** Exclusive lower bound on the id, for stable paging. */
  readonly afterId?: string | undefined;
}

export interface WorkspaceRepository {
  /** Resolves false when the slug is taken. */
  create(workspace: Workspace): Promise<boolean>;
  findByIdOrSlug(idOrSlug: string): Promise<Workspace | undefined>;
  list(page: Page): Promise<Workspace[]>;
}

export interface SourceRepository {
  create(source: Source, writeKeyHash: string): Promise<void>;
  findByWriteKeyHash(hash: string): Promise<Source | undefined>;
  find(workspaceId: string, id: string): Promise<Source | undefined>;
  list(workspaceId: string, page: Page): Promise<Source[]>;
  replaceWriteKey(
    workspaceId: string,
    id: string,
    hash: string,
    prefix: string,
    rotatedMs: number,
  ): Promise<boolean>;
  update(
    workspaceId: string,
    id: string,
    changes: { name?: string; settings?: SourceSettings; disabledMs?: number | null },
  ): Promise<boolean>;
}

export interface TokenRepository {
  create(token: ApiToken, tokenHash: string): Promise<void>;
  findByHash(hash: string): Promise<ApiToken | undefined>;
  list(workspaceId: string | null, page: Page): Promise<ApiToken[]>;
  revoke(workspaceId: string | null, id: string, revokedMs: number): Promise<boolean>;
}

/** Small instance-wide facts, e.g. whether the first start already bootstrapped. */
export interface InstanceStateRepository {
  get(key: string): Promise<string | undefined>;
  /** Sets only if absent; resolves true when this call set it. */
  setIfAbsent(key: string, value: string): Promise<boolean>;
  /** Sets only if the current value is `expected`; resolves true when this call set it. */
  compareAndSet(key: string, expected: string, value: string): Promise<boolean>;
}

/** Named JSON settings per workspace (identity, profiles, …), validated by their owners. */
export interface WorkspaceSettingsRepository {
  get(workspaceId: string, name: string): Promise<unknown>;
  put(workspaceId: string, name: string, value: unknown, nowMs: number): Promise<void>;
}
