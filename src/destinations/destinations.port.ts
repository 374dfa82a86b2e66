import type {
  ClaimedDelivery,
  Delivery,
  DeliveryCounts,
  DeliveryStatus,
  Destination,
} from './destination-types.ts';

/** An event a destination should receive (the router decided). */
export interface EventDeliveryRow {
  readonly destinationId: string;
  readonly eventSeq: number;
  readonly profileId: string | null;
}

/** A deletion call to send: the message is stored sealed and dropped once sent. */
export interface DeletionCallRow {
  readonly destinationId: string;
  readonly requestId: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** What an attempt decided for one delivery. */
export interface DeliverySettlement {
  readonly id: number;
  readonly status: DeliveryStatus;
  /** When a `queued` delivery is tried again. */
  readonly nextAttemptMs: number | null;
  readonly attemptMs: number;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
}

/** A delivery's event: its current profile and that profile's consent values now. */
export interface EventConsent {
  readonly profileId: string | null;
  readonly consent: ReadonlyMap<string, boolean>;
}

export interface DestinationRepository {
  create(destination: Destination): Promise<void>;
  get(workspaceId: string, id: string): Promise<Destination | undefined>;
  list(workspaceId: string, query: { afterId?: string | undefined; limit: number }): Promise<Destination[]>;
  update(destination: Destination): Promise<void>;
  /** Deletes the destination and what it has not delivered; the record of deliveries made stays. */
  delete(workspaceId: string, id: string): Promise<boolean>;
  /** Enabled destinations of a workspace (the router reads them for every batch). */
  enabledIn(workspaceId: string): Promise<Destination[]>;

  /** Queues events; one delivery per destination and event, so a redelivered batch adds nothing. */
  enqueue(workspaceId: string, rows: readonly EventDeliveryRow[], nowMs: number): Promise<number>;
  /** Queues deletion calls; one per destination and privacy request. */
  enqueueDeletions(workspaceId: string, rows: readonly DeletionCallRow[], nowMs: number): Promise<number>;
  /** Destinations with a delivery due at `nowMs`, every workspace. */
  dueDestinations(
    nowMs: number,
    limit: number,
  ): Promise<{ readonly workspaceId: string; readonly destinationId: string }[]>;
  /**
   * Takes up to `limit` due deliveries of a destination, oldest first, for `leaseMs`: another
   * process (or this one after a crash) takes them again only once the lease lapsed.
   */
  claim(
    workspaceId: string,
    destinationId: string,
    nowMs: number,
    leaseMs: number,
    limit: number,
  ): Promise<ClaimedDelivery[]>;
  settle(workspaceId: string, settlements: readonly DeliverySettlement[]): Promise<void>;
  /** The earliest instant a queued delivery is due, or null. */
  nextDue(): Promise<number | null>;
  /** seq → the event's current profile and its consent, for events still in the log. */
  consentOfEvents(workspaceId: string, seqs: readonly number[]): Promise<Map<number, EventConsent>>;

  deliveries(
    workspaceId: string,
    destinationId: string,
    query: { status?: DeliveryStatus | undefined; beforeId?: number | undefined; limit: number },
  ): Promise<Delivery[]>;
  counts(workspaceId: string, destinationId: string): Promise<DeliveryCounts>;
  /** Puts failed (or the given failed) deliveries back in the queue; returns how many. */
  retryFailed(
    workspaceId: string,
    destinationId: string,
    ids: readonly number[] | undefined,
    nowMs: number,
  ): Promise<number>;
  /**
   * Destinations that were sent events of these profiles (deletion calls go to them): every
   * delivery that was delivered or attempted, whatever the answer, since the receiver may hold
   * the events even when it refused them, failed or never answered.
   */
  recipientsOf(workspaceId: string, profileIds: readonly string[]): Promise<string[]>;
}
