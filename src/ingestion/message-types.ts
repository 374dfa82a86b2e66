import type { JsonObject } from '../shared/json.ts';

/** The six calls of Segment's Tracking API spec. */
export const MESSAGE_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export function isMessageType(value: unknown): value is MessageType {
  return typeof value === 'string' && (MESSAGE_TYPES as readonly string[]).includes(value);
}

/** The indexed fields of a log entry: what the log can filter and route on without parsing. */
export interface EventHeader {
  readonly workspaceId: string;
  readonly sourceId: string;
  readonly messageId: string;
  readonly type: MessageType;
  /** The track event name, or the page/screen name. */
  readonly event: string | null;
  readonly userId: string | null;
  readonly anonymousId: string | null;
  readonly timestampMs: number;
  readonly receivedMs: number;
}

/** A message that passed validation and enrichment, ready to be appended to the event log. */
export interface AcceptedEvent extends EventHeader {
  /**
   * The stored message as JSON text, or as that text's UTF-8 bytes (what the decoder hands
   * over): what every consumer reads back, as text.
   */
  readonly payload: string | Uint8Array;
}

/** One entry of the log, as consumers and the admin API see it. */
export interface StoredEvent extends EventHeader {
  readonly seq: number;
  readonly message: JsonObject;
}
