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
  workspace_settings: { workspace_id: string; name: string; value: string; updated_ms: number };
  profiles: {
    workspace_id: string;
    id: string;
    kind: string;
    created_seq: number;
    created_ts_ms: number;
    created_message_id: string;
    created_content_key: string;
    first_seen_ms: number;
    last_seen_ms: number;
    updated_ms: number;
    event_count: number;
    /** JSON object: trait name → current value. */
    traits: string;
    /** JSON object: trait name → provenance (source, event, time, priority). */
    trait_meta: string;
    merged_into: string | null;
  };
  profile_identifiers: {
    workspace_id: string;
    id_key: string;
    type: string;
    value: string;
    profile_id: string | null;
    component_id: string;
    linked_seq: number | null;
    linked_message_id: string | null;
    linked_ts_ms: number | null;
  };
  identity_components: {
    workspace_id: string;
    id: string;
    last_ts_ms: number;
    last_message_id: string;
    last_content_key: string;
    events: number;
    demotions: number;
    stale: number;
  };
  profile_events: {
    workspace_id: string;
    profile_id: string;
    seq: number;
    ts_ms: number;
    type: string;
    event: string | null;
  };
  identity_merges: {
    workspace_id: string;
    merged_id: string;
    survivor_id: string;
    seq: number;
    message_id: string;
    ts_ms: number;
    at_ms: number;
  };
  identity_decisions: {
    workspace_id: string;
    seq: number;
    position: number;
    kind: string;
    type: string;
    value: string;
    reason: string;
    limit_type: string | null;
    profile_id: string | null;
    at_ms: number;
  };
  identity_unlinked: {
    workspace_id: string;
    id_key: string;
    type: string;
    value: string;
    profile_id: string;
    actor: string;
    at_ms: number;
  };
  trait_history: {
    workspace_id: string;
    profile_id: string;
    trait: string;
    seq: number;
    ts_ms: number;
    source_id: string;
    message_id: string;
    /** JSON of the value the event set. */
    value: string;
    at_ms: number;
  };
  profile_groups: {
    workspace_id: string;
    profile_id: string;
    account_id: string;
    seq: number;
    ts_ms: number;
  };
  // Console users (004-users-and-sessions). Booleans are integers 0/1 on both dialects.
  users: {
    id: string;
    email: string;
    password_hash: string;
    instance_owner: number;
    created_ms: number;
    updated_ms: number;
    disabled_ms: number | null;
    last_login_ms: number | null;
  };
  user_memberships: {
    user_id: string;
    workspace_id: string;
    role: string;
    /** 'grant' | 'withdraw' | null (as the role says). */
    pii: string | null;
    created_ms: number;
    updated_ms: number;
  };
  user_sessions: {
    /** SHA-256 of the session id; the id itself is only in the cookie. */
    id_hash: string;
    user_id: string;
    created_ms: number;
    last_seen_ms: number;
    expires_ms: number;
    ip: string | null;
    user_agent: string | null;
  };
  login_throttle: {
    key: string;
    failures: number;
    window_start_ms: number;
    locked_until_ms: number;
    lockouts: number;
    updated_ms: number;
  };
  segments: {
    workspace_id: string;
    id: string;
    slug: string;
    name: string;
    description: string;
    /** The definition as written (segment language). */
    definition: string;
    /** JSON: SegmentDependencies of the definition, for the real-time dependency index. */
    dependencies: string;
    version: number;
    created_ms: number;
    updated_ms: number;
    /** backfilling | ready | failed */
    status: string;
    backfill_total: number;
    backfill_done: number;
    backfill_started_ms: number | null;
    backfill_finished_ms: number | null;
    backfill_error: string | null;
  };
  segment_memberships: { workspace_id: string; segment_id: string; profile_id: string; entered_ms: number };
  segment_membership_history: {
    seq: Generated<number>;
    workspace_id: string;
    segment_id: string;
    profile_id: string;
    /** entered | exited */
    change: string;
    at_ms: number;
  };
  computed_traits: {
    workspace_id: string;
    id: string;
    name: string;
    /** JSON: the ComputedTraitDefinition. */
    definition: string;
    version: number;
    created_ms: number;
    updated_ms: number;
    status: string;
    backfill_total: number;
    backfill_done: number;
    backfill_started_ms: number | null;
    backfill_finished_ms: number | null;
    backfill_error: string | null;
  };
  computed_trait_values: {
    workspace_id: string;
    profile_id: string;
    name: string;
    /** JSON value. */
    value: string;
    updated_ms: number;
    next_change_ms: number | null;
  };
  profile_consent: {
    workspace_id: string;
    profile_id: string;
    category: string;
    /** 1 granted, 0 refused. */
    granted: number;
    source: string;
    ts_ms: number;
    /** Of the winning value (the last tie-break); null when it was set through the API. */
    message_id: string | null;
  };
  profile_schedule: { workspace_id: string; profile_id: string; due_ms: number };
  // Consent history and privacy requests (006-consent-and-privacy).
  consent_history: {
    seq: Generated<number>;
    workspace_id: string;
    /** Null while the event that carried the value belongs to no profile. */
    profile_id: string | null;
    category: string;
    /** 1 granted, 0 refused. */
    granted: number;
    /** event | gpc | api | a label given through the API (e.g. an import's name). */
    source: string;
    /** When the person gave or refused it (the event's timestamp, or the API's). */
    ts_ms: number;
    event_seq: number | null;
    message_id: string | null;
    /** Who set it through the API (JSON actor), null for events. */
    actor: string | null;
    at_ms: number;
  };
  privacy_requests: {
    workspace_id: string;
    id: string;
    /** export | erase | suppress_and_erase | unsuppress */
    type: string;
    /** pending | running | completed | failed */
    status: string;
    identifier_type: string;
    /** The identifier as given (normalized); cleared once the request finished. */
    identifier_value: string | null;
    /** Keyed hash (HMAC-SHA256) of the normalized identifier. */
    identifier_hash: string;
    requested_by: string;
    created_ms: number;
    started_ms: number | null;
    finished_ms: number | null;
    lease_until_ms: number | null;
    attempts: number;
    /** JSON summary (counts), never personal data. */
    result: string | null;
    error_code: string | null;
    error_message: string | null;
  };
  privacy_exports: {
    request_id: string;
    workspace_id: string;
    /** The export document (JSON). */
    document: string;
    created_ms: number;
    expires_ms: number;
  };
  privacy_suppressions: { workspace_id: string; id_hash: string; request_id: string; created_ms: number };
  privacy_suppression_state: {
    workspace_id: string;
    version: number;
    dropped_events: number;
    updated_ms: number;
  };
  // Destinations and their deliveries (010-destinations).
  destinations: {
    workspace_id: string;
    id: string;
    /** webhook */
    type: string;
    name: string;
    url: string;
    /** The signing secret, sealed with the data key (privacy/pii-vault.ts) when a vault is installed. */
    secret: string;
    send_deletions: number;
    filter: string | null;
    /** JSON list of segment slugs. */
    segments: string;
    /** JSON list of consent categories. */
    consent_categories: string;
    enabled: number;
    created_ms: number;
    updated_ms: number;
  };
  destination_deliveries: {
    id: Generated<number>;
    workspace_id: string;
    destination_id: string;
    /** event | deletion */
    kind: string;
    event_seq: number | null;
    profile_id: string | null;
    request_id: string | null;
    /** A deletion call's message (JSON, sealed); null for events and once sent. */
    payload: string | null;
    /** queued | delivered | failed | dropped */
    status: string;
    attempts: number;
    next_attempt_ms: number | null;
    first_attempt_ms: number | null;
    last_attempt_ms: number | null;
    last_status: number | null;
    last_error: string | null;
    created_ms: number;
  };
  // Audience events owed to the log (011-audience-event-outbox).
  audience_event_outbox: {
    workspace_id: string;
    message_id: string;
    profile_id: string;
    segment_id: string;
    segment_slug: string;
    segment_name: string;
    /** 1 entered, 0 exited. */
    member: number;
    at_ms: number;
    decided_ms: number;
  };
  // Rebuilds of a workspace's profiles from its log (012-profile-rebuilds).
  profile_rebuilds: {
    workspace_id: string;
    status: string;
    after_seq: number;
    done: number;
    total: number;
    started_ms: number;
    finished_ms: number | null;
    pending_change: string | null;
  };
  // Admin-made profile changes owed to the listeners (013-profile-change-outbox).
  profile_change_outbox: {
    workspace_id: string;
    id: string;
    /** JSON: OwedProfileChange. */
    change: string;
    created_ms: number;
  };
  // Profiles a rebuild deleted, until it knows whether the replay brought them back (014).
  profile_rebuild_gone: {
    workspace_id: string;
    profile_id: string;
  };
}
