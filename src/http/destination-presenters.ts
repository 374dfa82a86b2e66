import { Type } from 'typebox';
import type { Delivery, DeliveryCounts, Destination } from '../destinations/destination-types.ts';
import type { PostOutcome } from '../destinations/webhook-client.ts';
import { iso } from './schemas.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const DeliveryCountsSchema = Type.Object({
  queued: Type.Integer(),
  delivered: Type.Integer(),
  failed: Type.Integer(),
  dropped: Type.Integer(),
});

export const DestinationSchema = Type.Object({
  id: Type.String(),
  workspaceId: Type.String(),
  type: Type.String(),
  name: Type.String(),
  config: Type.Object({
    url: Type.String(),
    sendDeletions: Type.Boolean(),
    /** Only in the answer that created or changed it: it is never shown again. */
    secret: Type.Optional(Type.String()),
  }),
  filter: Nullable(Type.String()),
  segments: Type.Array(Type.String()),
  consentCategories: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  deliveries: Type.Optional(DeliveryCountsSchema),
});

export const DeliverySchema = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  status: Type.String(),
  seq: Nullable(Type.Integer()),
  profileId: Nullable(Type.String()),
  requestId: Nullable(Type.String()),
  attempts: Type.Integer(),
  createdAt: Type.String(),
  firstAttemptAt: Nullable(Type.String()),
  lastAttemptAt: Nullable(Type.String()),
  nextAttemptAt: Nullable(Type.String()),
  lastStatus: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
});

export const TestOutcomeSchema = Type.Object({
  outcome: Type.String(),
  status: Nullable(Type.Integer()),
  message: Type.String(),
  durationMs: Type.Number(),
});

/**
 * A URL's query string often carries a receiver's key (`?token=…`): only those who may manage
 * destinations see it.
 */
function shownUrl(url: string, full: boolean): string {
  if (full) return url;
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}${parsed.search === '' ? '' : '?…'}`;
}

export function presentDestination(
  d: Destination,
  options: {
    readonly fullUrl: boolean;
    readonly secret?: string | undefined;
    readonly counts?: DeliveryCounts;
  },
) {
  return {
    id: d.id,
    workspaceId: d.workspaceId,
    type: d.type,
    name: d.name,
    config: {
      url: shownUrl(d.config.url, options.fullUrl),
      sendDeletions: d.config.sendDeletions,
      ...(options.secret !== undefined ? { secret: options.secret } : {}),
    },
    filter: d.filter,
    segments: [...d.segments],
    consentCategories: [...d.consentCategories],
    enabled: d.enabled,
    createdAt: new Date(d.createdMs).toISOString(),
    updatedAt: new Date(d.updatedMs).toISOString(),
    ...(options.counts ? { deliveries: options.counts } : {}),
  };
}

export function presentDelivery(d: Delivery) {
  return {
    id: d.id,
    kind: d.kind,
    status: d.status,
    seq: d.eventSeq,
    profileId: d.profileId,
    requestId: d.requestId,
    attempts: d.attempts,
    createdAt: new Date(d.createdMs).toISOString(),
    firstAttemptAt: iso(d.firstAttemptMs),
    lastAttemptAt: iso(d.lastAttemptMs),
    // A queued delivery's next attempt; for others, nothing is planned.
    nextAttemptAt: d.status === 'queued' ? iso(d.nextAttemptMs) : null,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
  };
}

export function presentTestOutcome(o: PostOutcome) {
  return { outcome: o.kind, status: o.status, message: o.message, durationMs: Math.round(o.durationMs) };
}
