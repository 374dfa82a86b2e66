/**
 * Which identifiers an event carries. Reads `userId`, `anonymousId`, alias's `previousId`,
 * `email`/`phone` from identify's `traits` and any call's `context.traits`, and
 * `context.externalIds`. A group's `groupId` and its `traits` describe the account, not the
 * person, so they are never read. Client data has any shape: this never throws, and the work is
 * bounded whatever the event holds.
 */
import type { StoredEvent } from '../ingestion/message-types.ts';
import { isJsonObject, ownField, type JsonObject, type JsonValue } from '../shared/json.ts';
import type { BlockedValues } from './blocked-values.ts';
import { identifierKey, isBuiltInIdentifierType, type Identifier } from './identifier-types.ts';
import { IDENTITY_REASONS, type IdentityReason } from './identity-reasons.ts';
import type { IdentitySettings } from './identity-settings.ts';
import { normalizeIdentifier, type NormalizeContext } from './normalize-identifier.ts';

export interface RejectedIdentifier {
  readonly type: string;
  /** The raw value, truncated to `PREVIEW_LENGTH`, for data-quality reports. */
  readonly value: string;
  readonly reason: IdentityReason;
}

export interface ExtractedIdentifiers {
  /** Distinct, normalized, in reading order; at most `settings.maxIdentifiersPerEvent`. */
  readonly identifiers: readonly Identifier[];
  /**
   * At most `MAX_REJECTED_RECORDED` individual entries, plus one `type: '*'` summary of what the
   * per-event bound dropped; `rejectedCount` has the full count.
   */
  readonly rejected: readonly RejectedIdentifier[];
  readonly rejectedCount: number;
}

/** The event fields extraction reads: a StoredEvent, or anything shaped like one in tests. */
export type IdentityEventInput = Pick<StoredEvent, 'type' | 'userId' | 'anonymousId' | 'message'>;

export const PREVIEW_LENGTH = 64;
export const MAX_REJECTED_RECORDED = 25;
/** externalIds entries looked at, per allowed identifier: the rest are counted, not read. */
const EXTERNAL_IDS_SCAN_FACTOR = 4;

interface Candidate {
  readonly type: string;
  readonly raw: unknown;
}

export function extractIdentifiers(
  event: IdentityEventInput,
  settings: IdentitySettings,
  blocked: BlockedValues,
): ExtractedIdentifiers {
  const collector = new Collector(settings, { settings, blocked, locale: localeOf(event.message) });
  for (const candidate of candidates(event, settings, collector)) collector.add(candidate);
  return collector.result();
}

function* candidates(
  event: IdentityEventInput,
  settings: IdentitySettings,
  collector: Collector,
): Generator<Candidate> {
  const message = event.message;
  const userId = event.userId ?? ownField(message, 'userId');
  if (userId !== undefined && userId !== null) yield { type: 'user_id', raw: userId };
  const anonymousId = event.anonymousId ?? ownField(message, 'anonymousId');
  if (anonymousId !== undefined && anonymousId !== null) yield { type: 'anonymous_id', raw: anonymousId };
  if (event.type === 'alias') {
    const previousId = ownField(message, 'previousId');
    // analytics.js and the mobile SDKs send the device's anonymousId as previousId (see README).
    if (previousId !== undefined && previousId !== null && previousId !== userId) {
      yield { type: 'anonymous_id', raw: previousId };
    }
  }
  if (event.type === 'identify') yield* traitCandidates(ownField(message, 'traits'));
  const context = ownField(message, 'context');
  if (isJsonObject(context)) {
    yield* traitCandidates(ownField(context, 'traits'));
    yield* externalIdCandidates(ownField(context, 'externalIds'), settings, collector);
  }
}

function* traitCandidates(traits: JsonValue | undefined): Generator<Candidate> {
  if (!isJsonObject(traits)) return;
  const email = ownField(traits, 'email');
  if (email !== undefined && email !== null) yield { type: 'email', raw: email };
  const phone = ownField(traits, 'phone');
  if (phone !== undefined && phone !== null) yield { type: 'phone', raw: phone };
}

/** Segment's shape: `[{ id, type, collection: 'users', encoding: 'none' }]`. */
function* externalIdCandidates(
  externalIds: JsonValue | undefined,
  settings: IdentitySettings,
  collector: Collector,
): Generator<Candidate> {
  if (externalIds === undefined || externalIds === null) return;
  if (!Array.isArray(externalIds)) {
    collector.reject('external_id', externalIds, IDENTITY_REASONS.invalidShape);
    return;
  }
  const scan = Math.min(externalIds.length, settings.maxIdentifiersPerEvent * EXTERNAL_IDS_SCAN_FACTOR);
  for (let i = 0; i < scan; i += 1) {
    const candidate = readExternalId(externalIds[i], settings, collector);
    if (candidate !== undefined) yield candidate;
  }
  if (externalIds.length > scan) {
    collector.skip(externalIds.length - scan);
  }
}

function readExternalId(
  entry: JsonValue | undefined,
  settings: IdentitySettings,
  collector: Collector,
): Candidate | undefined {
  if (!isJsonObject(entry)) {
    collector.reject('external_id', entry, IDENTITY_REASONS.invalidShape);
    return undefined;
  }
  const type = ownField(entry, 'type');
  const id = ownField(entry, 'id');
  if (typeof type !== 'string') {
    collector.reject('external_id', id, IDENTITY_REASONS.invalidShape);
    return undefined;
  }
  const collection = ownField(entry, 'collection');
  const encoding = ownField(entry, 'encoding');
  const supported =
    (collection === undefined || collection === 'users') && (encoding === undefined || encoding === 'none');
  if (!supported) {
    collector.reject(type, id, IDENTITY_REASONS.unsupportedExternalId);
    return undefined;
  }
  if (!isBuiltInIdentifierType(type) && !settings.customTypes.includes(type)) {
    collector.reject(type, id, IDENTITY_REASONS.undeclaredType);
    return undefined;
  }
  return { type, raw: id };
}

/** Normalizes, deduplicates and bounds the candidates; records every rejection (bounded). */
class Collector {
  private readonly identifiers: Identifier[] = [];
  private readonly seen = new Set<string>();
  private readonly rejected: RejectedIdentifier[] = [];
  private rejectedCount = 0;
  private overflow = 0;

  constructor(
    private readonly settings: IdentitySettings,
    private readonly context: NormalizeContext,
  ) {}

  add(candidate: Candidate): void {
    // Past the bound, values are counted, not normalized: the cost stays bounded.
    if (this.identifiers.length >= this.settings.maxIdentifiersPerEvent) {
      this.overflow += 1;
      return;
    }
    const result = normalizeIdentifier(candidate.type, candidate.raw, this.context);
    if (!result.ok) {
      this.reject(candidate.type, candidate.raw, result.reason);
      return;
    }
    const key = identifierKey(result.identifier);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.identifiers.push(result.identifier);
  }

  reject(type: string, raw: unknown, reason: IdentityReason): void {
    this.rejectedCount += 1;
    if (this.rejected.length < MAX_REJECTED_RECORDED)
      this.rejected.push({ type, value: preview(raw), reason });
  }

  /** Candidates dropped unread because the event carries more than we link. */
  skip(count: number): void {
    this.overflow += count;
  }

  /** The overflow is one summary entry, always present, whatever the cap on recorded rejections. */
  result(): ExtractedIdentifiers {
    const rejected = [...this.rejected];
    if (this.overflow > 0) {
      const value = `(${this.overflow} dropped)`;
      rejected.push({ type: '*', value, reason: IDENTITY_REASONS.tooManyIdentifiers });
    }
    return { identifiers: this.identifiers, rejected, rejectedCount: this.rejectedCount + this.overflow };
  }
}

function localeOf(message: JsonObject): unknown {
  const context = ownField(message, 'context');
  return isJsonObject(context) ? ownField(context, 'locale') : undefined;
}

/** A short, safe rendering of any value: never serializes a large object. */
export function preview(raw: unknown): string {
  if (typeof raw === 'string') return raw.length > PREVIEW_LENGTH ? `${raw.slice(0, PREVIEW_LENGTH)}…` : raw;
  if (Array.isArray(raw)) return `[array(${raw.length})]`;
  if (raw === null) return 'null';
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  return `[${typeof raw}]`;
}
