import type { Generated } from 'kysely';

/**
 * Table shapes as Kysely sees them, identical on SQLite and PostgreSQL. Times are epoch
 * milliseconds in BIGINT columns and JSON is TEXT, so both dialects read back the same values.
 */
export interface Database {
  workspaces: { id: string; slug: string; name: string; created_ms: number };
  sources: {
    id: string;
    workspace_id: string;
    name: string;
    type: string;
    write_key_hash: string;
    write_key_prefix: string;
    settings: string;
    created_ms: number;
    key_rotated_ms: number | null;
    disabled_ms: number | null;
  };
  api_tokens: {
    id: string;
    workspace_id: string | null;
    name: string;
    role: string;
    token_hash: string;
    token_prefix: string;
    created_ms: number;
    revoked_ms: number | null;
  };
  events: {
    seq: number;
    workspace_id: string;
    source_id: string;
    message_id: string;
    type: string;
    event: string | null;
    user_id: string | null;
    anonymous_id: string | null;
    ts_ms: number;
    received_ms: number;
    payload: string;
  };
  workspace_counters: { workspace_id: string; events: number };
  consumer_cursors: { consumer_group: string; position: number; updated_ms: number };
  consumer_redeliveries: { consumer_group: string; seq: number; attempt: number; due_ms: number };
  failed_events: {
    id: string;
    stage: string;
    seq: number;
    workspace_id: string;
    error_code: string;
    reason: string;
    attempts: number;
    failed_ms: number;
    status: string;
    replayed_ms: number | null;
  };
  instance_state: { key: string; value: string };
  audit_log: {
    seq: Generated<number>;
    workspace_id: string | null;
    at_ms: number;
    actor: string;
    action: string;
    target: string;
    ip: string | null;
    details: string;
    prev_hash: string;
    hash: string;
  };
}
