/**
 * The rules of delivery, pure: which events a destination receives, and what an attempt's
 * outcome means for each delivery of the batch (delivered, retried later, failed).
 */
import type { Expression } from '../segment-language/index.ts';
import type { JsonObject } from '../shared/json.ts';
import type { Destination } from './destination-types.ts';
import type { DeliverySettlement } from './destinations.port.ts';
import { eventPassesFilter } from './event-filter.ts';

export type SkipReason =
  'predates_destination' | 'integrations' | 'filter' | 'segments' | 'consent' | 'no_profile';

/**
 * A destination is offered the events received (`receivedMs`, the server's clock at ingestion)
 * from its creation on, never the history before it. The log is re-reported to the router by
 * identity maintenance (a profiles rebuild replays it whole, a failed event is replayed, a batch
 * is redelivered after a crash): that must not become a backfill to a partner who was added
 * later. Judged on the event's receipt, not on when the pipeline reaches it, so the answer is
 * the same however far behind the pipeline is and however often the event is re-reported.
 */
export function offeredTo(destination: Pick<Destination, 'createdMs'>, receivedMs: number): boolean {
  return receivedMs >= destination.createdMs;
}

/** What the router knows about the person of an event when it decides. */
export interface PersonFacts {
  readonly profileId: string | null;
  /** Slugs of the segments the profile is a member of now (read only when needed). */
  readonly segments: () => ReadonlySet<string>;
  /** Current consent per category (read only when needed); a category never given is absent. */
  readonly consent: () => ReadonlyMap<string, boolean>;
}

/**
 * Consent is opt-in: a category the person never granted counts as refused, so a destination
 * that requires `marketing` receives nothing from people who said nothing.
 */
export function consentAllows(required: readonly string[], consent: ReadonlyMap<string, boolean>): boolean {
  return required.every((category) => consent.get(category) === true);
}

/**
 * Audience events of a segment the destination syncs are delivered even when the person just
 * left it (that is the point of `Audience Exited`).
 */
function audienceEventOf(message: JsonObject, segments: readonly string[]): boolean {
  if (message['type'] !== 'track') return false;
  if (message['event'] !== 'Audience Entered' && message['event'] !== 'Audience Exited') return false;
  const properties = message['properties'];
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) return false;
  const slug = properties['audience_key'];
  return typeof slug === 'string' && segments.includes(slug);
}

/**
 * Segment's `integrations` object: `{"All": false, "CRM hook": true}` sends only to the
 * destination named so; `{"CRM hook": false}` to every other one. A destination's own entry
 * wins over `All`; only `false` turns one off (an options object, as SDKs send for some
 * destinations, counts as on).
 */
export function integrationsAllow(message: JsonObject, destinationName: string): boolean {
  const integrations = message['integrations'];
  if (typeof integrations !== 'object' || integrations === null || Array.isArray(integrations)) return true;
  const own = Object.hasOwn(integrations, destinationName) ? integrations[destinationName] : undefined;
  if (own !== undefined) return own !== false;
  const all = Object.hasOwn(integrations, 'All') ? integrations['All'] : undefined;
  return all !== false;
}

export function routeEvent(
  destination: Pick<Destination, 'name' | 'segments' | 'consentCategories'>,
  filter: Expression | null,
  message: JsonObject,
  person: PersonFacts,
): { readonly deliver: true } | { readonly deliver: false; readonly reason: SkipReason } {
  if (!integrationsAllow(message, destination.name)) return { deliver: false, reason: 'integrations' };
  if (filter !== null && !eventPassesFilter(message, filter)) return { deliver: false, reason: 'filter' };
  const needsPerson = destination.segments.length > 0 || destination.consentCategories.length > 0;
  if (needsPerson && person.profileId === null) return { deliver: false, reason: 'no_profile' };
  if (destination.segments.length > 0 && !audienceEventOf(message, destination.segments)) {
    const member = person.segments();
    if (!destination.segments.some((slug) => member.has(slug))) return { deliver: false, reason: 'segments' };
  }
  if (
    destination.consentCategories.length > 0 &&
    !consentAllows(destination.consentCategories, person.consent())
  )
    return { deliver: false, reason: 'consent' };
  return { deliver: true };
}

export interface RetryPolicy {
  /** First retry delay; doubled per attempt. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Retries go on for at least this long after the first attempt, then the delivery fails. */
  readonly retryWindowMs: number;
}

const MIN_RETRY_DELAY_MS = 250;

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  baseDelayMs: 1_000,
  maxDelayMs: 3_600_000,
  retryWindowMs: 24 * 3_600_000,
});

/** What an HTTP attempt answered (webhook-client's classification). */
export interface AttemptOutcome {
  readonly kind: 'ok' | 'retry' | 'reject';
  readonly status: number | null;
  readonly retryAfterMs: number | null;
  readonly message: string;
}

/**
 * The settlement of each delivery of an attempted batch. A retry waits the server's
 * `Retry-After` when it gave one, else an exponential backoff with ±20 % jitter (`random` in
 * [0,1)), so many destinations failing together do not come back in step.
 */
export function settle(
  deliveries: readonly {
    readonly id: number;
    readonly attempts: number;
    readonly firstAttemptMs: number | null;
  }[],
  outcome: AttemptOutcome,
  nowMs: number,
  policy: RetryPolicy,
  random: () => number,
): DeliverySettlement[] {
  return deliveries.map((d) => {
    const base = { id: d.id, attemptMs: nowMs, lastStatus: outcome.status };
    if (outcome.kind === 'ok') return { ...base, status: 'delivered', nextAttemptMs: null, lastError: null };
    if (outcome.kind === 'reject')
      return { ...base, status: 'failed', nextAttemptMs: null, lastError: outcome.message };
    const first = d.firstAttemptMs ?? nowMs;
    if (nowMs - first >= policy.retryWindowMs)
      return {
        ...base,
        status: 'failed',
        nextAttemptMs: null,
        lastError: `gave up after ${d.attempts} attempts over ${Math.round((nowMs - first) / 3_600_000)} h: ${outcome.message}`,
      };
    const exponential = Math.min(
      policy.maxDelayMs,
      policy.baseDelayMs * 2 ** Math.min(30, Math.max(0, d.attempts - 1)),
    );
    const jittered = exponential * (0.8 + 0.4 * random());
    // A `Retry-After: 0` still waits a moment: a receiver answering it in a loop is not hammered.
    const delay =
      outcome.retryAfterMs !== null
        ? Math.max(MIN_RETRY_DELAY_MS, Math.min(outcome.retryAfterMs, policy.retryWindowMs))
        : jittered;
    return {
      ...base,
      status: 'queued',
      nextAttemptMs: nowMs + Math.max(0, Math.round(delay)),
      lastError: outcome.message,
    };
  });
}
