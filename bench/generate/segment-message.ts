/**
 * The Segment HTTP Tracking API messages the generator emits, field by field as in
 * https://segment.com/docs/connections/spec/ (common fields + one shape per call type).
 * Only the fields the generator fills are typed; the spec allows more.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface SegmentContext {
  library: { name: string; version: string };
  userAgent?: string;
  locale?: string;
  ip?: string;
  timezone?: string;
  page?: PageContext;
  app?: { name: string; version: string; build: string; namespace: string };
  device?: { manufacturer: string; model: string; type: string };
  os?: { name: string; version: string };
  screen?: { width: number; height: number; density: number };
  campaign?: { name: string; source: string; medium: string; term?: string; content?: string };
  consent?: { categoryPreferences: Record<string, boolean> };
  groupId?: string;
}

export interface PageContext {
  path: string;
  referrer: string;
  search: string;
  title: string;
  url: string;
}

interface CommonFields {
  messageId: string;
  /** ISO 8601 with milliseconds, UTC. */
  timestamp: string;
  anonymousId?: string;
  userId?: string;
  context: SegmentContext;
}

export interface TrackMessage extends CommonFields {
  type: 'track';
  event: string;
  properties: JsonObject;
}

export interface PageMessage extends CommonFields {
  type: 'page';
  name: string;
  category?: string;
  properties: JsonObject;
}

export interface ScreenMessage extends CommonFields {
  type: 'screen';
  name: string;
  properties: JsonObject;
}

export interface IdentifyMessage extends CommonFields {
  type: 'identify';
  traits: JsonObject;
}

export interface GroupMessage extends CommonFields {
  type: 'group';
  groupId: string;
  traits: JsonObject;
}

export interface AliasMessage extends CommonFields {
  type: 'alias';
  previousId: string;
  userId: string;
}

export type SegmentMessage =
  TrackMessage | PageMessage | ScreenMessage | IdentifyMessage | GroupMessage | AliasMessage;

export type SegmentMessageType = SegmentMessage['type'];

export const SEGMENT_MESSAGE_TYPES: readonly SegmentMessageType[] = [
  'identify',
  'track',
  'page',
  'screen',
  'group',
  'alias',
];

/** One generated message and who really sent it (the ground truth for accuracy checks). */
export interface GeneratedMessage {
  /** The person (see `PersonTruth.personId`) whose action produced the message. */
  readonly personId: string;
  /** Epoch milliseconds of `message.timestamp`, to sort or pace without parsing. */
  readonly time: number;
  readonly message: SegmentMessage;
}
