/**
 * What the in-memory evaluator reads about one profile at one instant. The real-time stage builds
 * it from the store (`SegmentRepository.loadSnapshots`) or keeps it up to date from events; tests
 * write it by hand. Objects are JSON values as stored (`JSON.parse` output): keys such as
 * `__proto__` are plain own properties and are only ever read with own-property lookups.
 */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

export interface SnapshotEvent {
  /** `track`, `page`, `screen`, `identify`, `group`, `alias`. `did "X"` counts `track` events only. */
  readonly type: string;
  /** The track event's name (page/screen name for those types), null when absent. */
  readonly event: string | null;
  readonly timestampMs: number;
  /** Log position: orders events with equal timestamps (first/last values of computed traits). */
  readonly seq?: number;
  readonly properties?: JsonObject | undefined;
  readonly context?: JsonObject | undefined;
}

export interface ProfileSnapshot {
  /** Current trait values. */
  readonly traits: JsonObject;
  /** Computed trait name → current value (absent: never computed or no value). */
  readonly computed: JsonObject;
  /** The profile's timeline, any order. */
  readonly events: readonly SnapshotEvent[];
  /** Slugs of the segments the profile is a member of now. */
  readonly segments: ReadonlySet<string>;
  /** Consent category → granted; a category never given is absent. */
  readonly consent: Readonly<Record<string, boolean>>;
  /** Traits of each account (group) the profile belongs to. */
  readonly groups: readonly JsonObject[];
  /** Time of the profile's latest event (whatever `events` holds), when read from the store. */
  readonly lastSeenMs?: number;
}

/** A snapshot with nothing in it, to spread over in tests and callers. */
export function emptySnapshot(): ProfileSnapshot {
  return { traits: {}, computed: {}, events: [], segments: new Set(), consent: {}, groups: [] };
}
