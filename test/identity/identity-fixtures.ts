/** Builders for identity tests: log entries shaped like StoredEvent without a store. */
import type { MessageType } from '../../src/ingestion/message-types.ts';
import type { JsonObject } from '../../src/shared/json.ts';
import type { IdentityEvent } from '../../src/identity/index.ts';

export interface EventSpec {
  readonly type?: MessageType;
  readonly userId?: string;
  readonly anonymousId?: string;
  readonly email?: string;
  readonly phone?: string;
  readonly previousId?: string;
  readonly at?: number;
  readonly messageId?: string;
  readonly extra?: JsonObject;
}

const BASE_MS = Date.parse('2025-01-01T00:00:00.000Z');

/** `i` orders the event: its seq, default timestamp (i seconds after BASE) and messageId. */
export function storedEvent(i: number, spec: EventSpec): IdentityEvent {
  const type = spec.type ?? (spec.email !== undefined || spec.phone !== undefined ? 'identify' : 'track');
  const message: JsonObject = { type, ...spec.extra };
  if (spec.userId !== undefined) message.userId = spec.userId;
  if (spec.anonymousId !== undefined) message.anonymousId = spec.anonymousId;
  if (spec.previousId !== undefined) message.previousId = spec.previousId;
  const traits: JsonObject = {};
  if (spec.email !== undefined) traits.email = spec.email;
  if (spec.phone !== undefined) traits.phone = spec.phone;
  if (Object.keys(traits).length > 0) message.traits = traits;
  return fromMessage(i, message, spec.at ?? BASE_MS + i * 1000, spec.messageId);
}

/** A log entry around a raw Segment message (userId/anonymousId copied when they are strings). */
export function fromMessage(
  seq: number,
  message: JsonObject,
  timestampMs: number,
  messageId?: string,
): IdentityEvent {
  const type = (typeof message.type === 'string' ? message.type : 'track') as MessageType;
  return {
    seq,
    messageId:
      messageId ??
      (typeof message.messageId === 'string' ? message.messageId : `m${String(seq).padStart(6, '0')}`),
    timestampMs,
    type,
    userId: typeof message.userId === 'string' ? message.userId : null,
    anonymousId: typeof message.anonymousId === 'string' ? message.anonymousId : null,
    message,
  };
}

/** Profiles as sorted lists of `type:value`, sorted: compares clusterings, ignoring ids. */
export function clusters(
  profiles: readonly { identifiers: readonly { type: string; value: string }[] }[],
): string[][] {
  return profiles
    .map((p) => p.identifiers.map((i) => `${i.type}:${i.value}`).sort())
    .sort((a, b) => (a.join('|') < b.join('|') ? -1 : 1));
}
