/**
 * Sends the outbox: takes due deliveries per destination (with a lease, so several processes can
 * share the work and a crash only delays), checks consent again (it may have been withdrawn since
 * the event was queued), posts them in batches and records what each attempt decided.
 * At-least-once: a receiver may see a batch again after a crash; `X-CDP-Delivery` names it.
 */
import type { Clock } from '../shared/clock.ts';
import type { JsonObject } from '../shared/json.ts';
import {
  consentAllows,
  DEFAULT_RETRY_POLICY,
  settle,
  type AttemptOutcome,
  type RetryPolicy,
} from './delivery-policy.ts';
import type { ClaimedDelivery, DeliveryKind, Destination } from './destination-types.ts';
import type { DeliverySettlement, DestinationRepository } from './destinations.port.ts';
import { batchesOf, webhookRequest } from './webhook-request.ts';
import type { HttpPoster } from './webhook-client.ts';

const CLAIM_LIMIT = 500;
const PARALLEL_DESTINATIONS = 4;

export interface AttemptReport {
  readonly workspaceId: string;
  readonly destinationId: string;
  readonly kind: DeliveryKind;
  readonly deliveries: number;
  readonly outcome: AttemptOutcome & { readonly durationMs: number };
}

export interface DeliveryWorkerDeps {
  readonly destinations: DestinationRepository;
  /** The stored messages (opened) of these log positions that still exist. */
  readonly readEvents: (workspaceId: string, seqs: readonly number[]) => Promise<Map<number, JsonObject>>;
  readonly poster: HttpPoster;
  readonly clock: Clock;
  readonly policy?: RetryPolicy;
  readonly random?: () => number;
  /** How long a claim holds deliveries (default 60 s; well above a batch's timeouts). */
  readonly leaseMs?: number;
  /** How often due work of other processes is looked for (default 1 s). */
  readonly pollMs?: number;
  readonly onAttempt?: (report: AttemptReport) => void;
  readonly onSettled?: (status: DeliverySettlement['status'], n: number) => void;
  readonly onError?: (error: unknown) => void;
}

export class DeliveryWorker {
  readonly #deps: DeliveryWorkerDeps;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = true;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: DeliveryWorkerDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#stopped = false;
    this.wake();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** New deliveries were queued (or retried): look now rather than at the next poll. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain()
      .catch((error: unknown) => this.#deps.onError?.(error))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.wake();
        } else void this.#schedule();
      });
  }

  /** Waits for the current pass, if any (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #schedule(): Promise<void> {
    if (this.#stopped) return;
    const poll = this.#deps.pollMs ?? 1_000;
    let delay = poll;
    try {
      const due = await this.#deps.destinations.nextDue();
      if (due !== null) delay = Math.max(0, Math.min(poll, due - this.#deps.clock.now()));
    } catch (error) {
      this.#deps.onError?.(error);
    }
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.wake(), delay);
    this.#timer.unref();
  }

  /** One pass over every destination with due work; returns the deliveries attempted. */
  async runOnce(): Promise<number> {
    let attempted = 0;
    const due = await this.#deps.destinations.dueDestinations(this.#deps.clock.now(), 64);
    for (let i = 0; i < due.length; i += PARALLEL_DESTINATIONS) {
      const counts = await Promise.all(
        due.slice(i, i + PARALLEL_DESTINATIONS).map((d) => this.#sendDue(d.workspaceId, d.destinationId)),
      );
      for (const n of counts) attempted += n;
    }
    return attempted;
  }

  async #drain(): Promise<void> {
    while (!this.#stopped && (await this.runOnce()) > 0) {
      /* until nothing is due */
    }
  }

  async #sendDue(workspaceId: string, destinationId: string): Promise<number> {
    const repo = this.#deps.destinations;
    const destination = await repo.get(workspaceId, destinationId);
    if (destination === undefined || !destination.enabled) return 0;
    const nowMs = this.#deps.clock.now();
    const claimed = await repo.claim(
      workspaceId,
      destinationId,
      nowMs,
      this.#deps.leaseMs ?? 60_000,
      CLAIM_LIMIT,
    );
    if (claimed.length === 0) return 0;
    const events = claimed.filter((d) => d.kind === 'event' && d.eventSeq !== null);
    const messages = await this.#deps.readEvents(
      workspaceId,
      events.map((d) => d.eventSeq as number),
    );
    const consent =
      destination.consentCategories.length > 0
        ? await repo.consentOfEvents(
            workspaceId,
            events.map((d) => d.eventSeq as number),
          )
        : undefined;
    const dropped: DeliverySettlement[] = [];
    const drop = (d: ClaimedDelivery, reason: string): void =>
      void dropped.push({
        id: d.id,
        status: 'dropped',
        nextAttemptMs: null,
        attemptMs: nowMs,
        lastStatus: null,
        lastError: reason,
      });
    const sendable: { delivery: ClaimedDelivery; message: JsonObject; size: number }[] = [];
    for (const d of claimed) {
      if (d.kind === 'deletion') {
        if (d.payload === null) drop(d, 'the deletion call has no message');
        continue;
      }
      const message = messages.get(d.eventSeq as number);
      if (message === undefined) {
        drop(d, 'the event is no longer stored (erased or past retention)');
        continue;
      }
      const facts = consent?.get(d.eventSeq as number);
      if (
        consent !== undefined &&
        (facts === undefined || !consentAllows(destination.consentCategories, facts.consent))
      ) {
        drop(d, `consent withdrawn (${destination.consentCategories.join(', ')})`);
        continue;
      }
      sendable.push({ delivery: d, message, size: JSON.stringify(message).length });
    }
    await this.#settle(workspaceId, dropped);
    for (const batch of batchesOf(sendable, (item) => item.size))
      await this.#attempt(
        destination,
        'event',
        batch.map((item) => item.delivery),
        batch.map((item) => item.message),
      );
    // Each deletion call goes alone: it is about one person and one request.
    for (const d of claimed)
      if (d.kind === 'deletion' && d.payload !== null)
        await this.#attempt(destination, 'deletion', [d], [d.payload]);
    return claimed.length;
  }

  async #attempt(
    destination: Destination,
    kind: DeliveryKind,
    deliveries: readonly ClaimedDelivery[],
    messages: readonly unknown[],
  ): Promise<void> {
    const first = deliveries[0];
    if (first === undefined) return;
    const request = webhookRequest(destination.config.secret, messages, {
      destinationId: destination.id,
      attemptId: `${destination.id}-${first.id}-${deliveries.length}`,
    });
    const outcome = await this.#deps.poster.post(destination.config.url, request.body, request.headers);
    this.#deps.onAttempt?.({
      workspaceId: destination.workspaceId,
      destinationId: destination.id,
      kind,
      deliveries: deliveries.length,
      outcome,
    });
    await this.#settle(
      destination.workspaceId,
      settle(
        deliveries,
        outcome,
        this.#deps.clock.now(),
        this.#deps.policy ?? DEFAULT_RETRY_POLICY,
        this.#deps.random ?? Math.random,
      ),
    );
  }

  async #settle(workspaceId: string, settlements: readonly DeliverySettlement[]): Promise<void> {
    if (settlements.length === 0) return;
    await this.#deps.destinations.settle(workspaceId, settlements);
    const byStatus = new Map<DeliverySettlement['status'], number>();
    for (const s of settlements) byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + 1);
    for (const [status, n] of byStatus) this.#deps.onSettled?.(status, n);
  }
}
