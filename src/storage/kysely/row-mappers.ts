import type { Selectable } from 'kysely';
import type { Membership, Session, User } from '../../access/user-types.ts';
import type { StoredEvent } from '../../ingestion/message-types.ts';
import type { FailedEvent } from '../../pipeline/failed-events.port.ts';
import type { ApiToken, Role, Source, SourceType, Workspace } from '../../workspaces/workspace-types.ts';
import type { JsonObject } from '../../shared/json.ts';
import type { Database } from '../database-schema.ts';

type Row<T extends keyof Database> = Selectable<Database[T]>;

// PostgreSQL hands BIGINT back as a string unless told otherwise; Number() makes both dialects agree.
const num = (value: number | string): number => Number(value);
const optNum = (value: number | string | null): number | null => (value === null ? null : Number(value));

export const toWorkspace = (row: Row<'workspaces'>): Workspace => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
  createdMs: num(row.created_ms),
});

export const toSource = (row: Row<'sources'>): Source => ({
  id: row.id,
  workspaceId: row.workspace_id,
  name: row.name,
  type: row.type as SourceType,
  writeKeyPrefix: row.write_key_prefix,
  settings: JSON.parse(row.settings),
  createdMs: num(row.created_ms),
  keyRotatedMs: optNum(row.key_rotated_ms),
  disabledMs: optNum(row.disabled_ms),
});

export const toToken = (row: Row<'api_tokens'>): ApiToken => ({
  id: row.id,
  workspaceId: row.workspace_id,
  name: row.name,
  role: row.role as Role,
  tokenPrefix: row.token_prefix,
  createdMs: num(row.created_ms),
  revokedMs: optNum(row.revoked_ms),
});

/** A log row as the domain reads it: sealed personal fields opened (pii-sealing.ts). */
export const toStoredEvent = (
  row: Row<'events'>,
  sealing: { openMessage(message: JsonObject): JsonObject },
): StoredEvent => ({
  seq: num(row.seq),
  workspaceId: row.workspace_id,
  sourceId: row.source_id,
  messageId: row.message_id,
  type: row.type as StoredEvent['type'],
  event: row.event,
  userId: row.user_id,
  anonymousId: row.anonymous_id,
  timestampMs: num(row.ts_ms),
  receivedMs: num(row.received_ms),
  message: sealing.openMessage(JSON.parse(row.payload) as JsonObject),
});

export const toFailedEvent = (row: Row<'failed_events'>): FailedEvent => ({
  id: row.id,
  stage: row.stage,
  seq: num(row.seq),
  workspaceId: row.workspace_id,
  errorCode: row.error_code,
  reason: row.reason,
  attempts: num(row.attempts),
  failedMs: num(row.failed_ms),
  status: row.status as FailedEvent['status'],
  replayedMs: optNum(row.replayed_ms),
});

export const toUser = (row: Omit<Row<'users'>, 'password_hash'>): User => ({
  id: row.id,
  email: row.email,
  instanceOwner: num(row.instance_owner) === 1,
  createdMs: num(row.created_ms),
  updatedMs: num(row.updated_ms),
  disabledMs: optNum(row.disabled_ms),
  lastLoginMs: optNum(row.last_login_ms),
});

export const toMembership = (row: Row<'user_memberships'>): Membership => ({
  userId: row.user_id,
  workspaceId: row.workspace_id,
  role: row.role as Role,
  pii: row.pii === 'grant' || row.pii === 'withdraw' ? row.pii : null,
  createdMs: num(row.created_ms),
  updatedMs: num(row.updated_ms),
});

export const toSession = (row: Row<'user_sessions'>): Session => ({
  idHash: row.id_hash,
  userId: row.user_id,
  createdMs: num(row.created_ms),
  lastSeenMs: num(row.last_seen_ms),
  expiresMs: num(row.expires_ms),
  ip: row.ip,
  userAgent: row.user_agent,
});
