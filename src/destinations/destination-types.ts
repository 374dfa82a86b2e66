/**
 * Destinations: where events and audiences go (partner tools), and the deliveries made to them.
 * A destination receives an event only if the event passes its filter, the person is in one of
 * its segments (when it names any) and the person granted every consent category it requires.
 */

export const DESTINATION_TYPES = ['webhook'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];

export interface WebhookConfig {
  readonly url: string;
  /** Signs every request (X-CDP-Signature); stored sealed, never shown again after creation. */
  readonly secret: string;
  /** Whether an erasure sends this destination a deletion call for the person (default true). */
  readonly sendDeletions: boolean;
}

export interface Destination {
  readonly id: string;
  readonly workspaceId: string;
  readonly type: DestinationType;
  readonly name: string;
  readonly config: WebhookConfig;
  /** Event filter in the segment language (over one event), null: every event. */
  readonly filter: string | null;
  /** Slugs: when not empty, only events of members of one of these segments are delivered. */
  readonly segments: readonly string[];
  /** Categories the person must have granted (all of them) for anything to be delivered. */
  readonly consentCategories: readonly string[];
  readonly enabled: boolean;
  readonly createdMs: number;
  readonly updatedMs: number;
}

/**
 * One delivery: an event for a destination, or a deletion call. `queued` waits for its next
 * attempt; `delivered` was accepted (2xx); `failed` was refused (4xx), exhausted its retries or
 * was refused by the egress policy, and waits for an operator's retry; `dropped` was not sent
 * because the person withdrew consent after it was queued.
 */
export const DELIVERY_STATUSES = ['queued', 'delivered', 'failed', 'dropped'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export type DeliveryKind = 'event' | 'deletion';

export interface Delivery {
  readonly id: number;
  readonly workspaceId: string;
  readonly destinationId: string;
  readonly kind: DeliveryKind;
  /** The event's log position (kind `event`). */
  readonly eventSeq: number | null;
  readonly profileId: string | null;
  /** The privacy request of a deletion call. */
  readonly requestId: string | null;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly createdMs: number;
  readonly firstAttemptMs: number | null;
  readonly lastAttemptMs: number | null;
  readonly nextAttemptMs: number | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
}

/** A claimed deletion call carries the message to send (opened). */
export interface ClaimedDelivery extends Delivery {
  readonly payload: Readonly<Record<string, unknown>> | null;
}

export interface DeliveryCounts {
  readonly queued: number;
  readonly delivered: number;
  readonly failed: number;
  readonly dropped: number;
}
