import type { Member } from '../access/user.service.ts';
import { piiAccessOf, type Membership, type User } from '../access/user-types.ts';
import { grantCan } from '../governance/permissions.ts';
import type { StoredEvent } from '../ingestion/message-types.ts';
import type { FailedEvent } from '../pipeline/failed-events.port.ts';
import type { UnlinkedIdentifierView } from '../profiles/profile-query.port.ts';
import type { ProfileRebuildState } from '../profiles/profile-state.port.ts';
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

/** A user as a member of one workspace (never a password hash). */
export const presentMember = ({ user, membership }: Member) => ({
  id: user.id,
  email: user.email,
  role: membership.role,
  piiAccess: piiAccessOf(membership.pii),
  readsPii: user.instanceOwner || grantCan(membership, 'events.read_pii'),
  disabled: user.disabledMs !== null,
  createdAt: new Date(user.createdMs).toISOString(),
  lastLoginAt: iso(user.lastLoginMs),
});

export const presentUser = (user: User, memberships: readonly Membership[]) => ({
  id: user.id,
  email: user.email,
  instanceOwner: user.instanceOwner,
  disabled: user.disabledMs !== null,
  createdAt: new Date(user.createdMs).toISOString(),
  lastLoginAt: iso(user.lastLoginMs),
  memberships: memberships
    .filter((m) => m.userId === user.id)
    .map((m) => ({ workspaceId: m.workspaceId, role: m.role, piiAccess: piiAccessOf(m.pii) })),
});

export const presentRebuild = (state: ProfileRebuildState) => ({
  status: state.status,
  done: state.done,
  total: state.total,
  startedAt: new Date(state.startedMs).toISOString(),
  finishedAt: state.finishedMs === null ? null : new Date(state.finishedMs).toISOString(),
});

/** The stored key (a keyed hash for personal types) is a paging position, never shown. */
export const presentUnlinked = (u: UnlinkedIdentifierView) => ({
  type: u.type,
  value: u.value,
  profileId: u.profileId,
  actor: u.actor,
  at: new Date(u.atMs).toISOString(),
});
