import type { JsonObject } from '../shared/json.ts';

/** The six calls of Segment's Tracking API spec. */
export const MESSAGE_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export function isMessageType(value: unknown): value is MessageType {
  return typeof value === 'string' && (MESSAGE_TYPES as readonly string[]).includes(value);
}

/** A message that passed validation and enrichment, ready to be appended to the event log. */
export interface AcceptedEvent {
  readonly workspaceId: string;
  readonly sourceId: string;
  readonly messageId: string;
  readonly type: MessageType;
  readonly event: string | null;
  readonly userId: string | null;
  readonly anonymousId: string | null;
  readonly timestampMs: number;
  readonly receivedMs: number;
  /** The stored message as JSON text: what every consumer reads back. */
  readonly payload: string;
}

/** One entry of the log, as consumers and the admin API see it. */
export interface StoredEvent {
  readonly seq: number;
  readonly workspaceId: string;
  readonly sourceId: string;
  readonly messageId: string;
  readonly type: MessageType;
  readonly event: string | null;
  readonly userId: string | null;
  readonly anonymousId: string | null;
  readonly timestampMs: number;
  readonly receivedMs: number;
  readonly message: JsonObject;
}
