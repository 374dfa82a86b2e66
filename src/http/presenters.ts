import type { StoredEvent } from '../ingestion/message-types.ts';
import type { FailedEvent } from '../pipeline/failed-events.port.ts';
import type { ApiToken, Source, Workspace } from '../workspaces/workspace-types.ts';
import { iso } from './schemas.ts';

/** Domain objects to their public JSON shapes (ISO dates, no secrets). */
export const presentWorkspace = (w: Workspace) => ({
  id: w.id,
  slug: w.slug,
  name: w.name,
  createdAt: new Date(w.createdMs).toISOString(),
});

export const presentSource = (s: Source) => ({
  id: s.id,
  workspaceId: s.workspaceId,
  name: s.name,
  type: s.type,
  writeKeyPrefix: s.writeKeyPrefix,
  settings: s.settings,
  enabled: s.disabledMs === null,
  createdAt: new Date(s.createdMs).toISOString(),
  keyRotatedAt: iso(s.keyRotatedMs),
});

export const presentToken = (t: ApiToken) => ({
  id: t.id,
  workspaceId: t.workspaceId,
  name: t.name,
  role: t.role,
  tokenPrefix: t.tokenPrefix,
  createdAt: new Date(t.createdMs).toISOString(),
  revokedAt: iso(t.revokedMs),
});

/** An event is shown as the stored Segment message itself, as Segment's debugger does. */
export const presentEvent = (e: StoredEvent) => e.message;

export const presentFailedEvent = (f: FailedEvent) => ({
  id: f.id,
  stage: f.stage,
  seq: f.seq,
  errorCode: f.errorCode,
  reason: f.reason,
  attempts: f.attempts,
  status: f.status,
  failedAt: new Date(f.failedMs).toISOString(),
  replayedAt: iso(f.replayedMs),
});
