import type { JsonClient } from '../support/http-json.ts';

/**
 * Probes: messages that make a fresh profile (a user id never seen before) qualify for one
 * segment, so the instant its membership shows up in the admin API can be timed. Entry probes
 * ride in the generator traffic and are timed from their batch's ack; window probes are sent
 * before the load, stamped so that their window lapses during it, and timed from that instant.
 */
export const ENTRY_PROBE_KINDS = ['trait', 'count', 'funnel'] as const;
export type ProbeKind = (typeof ENTRY_PROBE_KINDS)[number] | 'window';

/** The span of `active-last-minute` (`in last 1 minute`). */
export const WINDOW_MS = 60_000;
export const WINDOW_SEGMENT = 'active-last-minute';

export interface Probe {
  readonly kind: ProbeKind;
  readonly userId: string;
  readonly slug: string;
  readonly messages: readonly object[];
  /** Epoch ms at which the window no longer holds the event (window probes), else null. */
  readonly lapseMs: number | null;
}

function track(userId: string, n: number, event: string, extra: object = {}): object {
  return {
    type: 'track',
    messageId: `${userId}-${n}`,
    userId,
    event,
    properties: { bench_probe: true },
    ...extra,
  };
}

export function createEntryProbe(kind: (typeof ENTRY_PROBE_KINDS)[number], userId: string): Probe {
  switch (kind) {
    case 'trait':
      return {
        kind,
        userId,
        slug: 'plan-premium',
        lapseMs: null,
        messages: [{ type: 'identify', messageId: `${userId}-0`, userId, traits: { plan: 'premium' } }],
      };
    case 'count':
      return {
        kind,
        userId,
        slug: 'repeat-buyers',
        lapseMs: null,
        messages: [track(userId, 0, 'Order Completed'), track(userId, 1, 'Order Completed')],
      };
    case 'funnel':
      return {
        kind,
        userId,
        slug: 'browse-no-buy',
        lapseMs: null,
        messages: [track(userId, 0, 'Product Viewed')],
      };
  }
}

/** An event at `ts` is in `in last 1 minute` until `ts + span` and leaves 1 ms later. */
export function createWindowProbe(userId: string, lapseMs: number): Probe {
  const timestamp = new Date(lapseMs - WINDOW_MS - 1).toISOString();
  return {
    kind: 'window',
    userId,
    slug: WINDOW_SEGMENT,
    lapseMs,
    messages: [track(userId, 0, 'Product Viewed', { timestamp })],
  };
}

export interface EntryOutcome {
  readonly kind: ProbeKind;
  readonly acked: boolean;
  /** Ack → membership visible, in ms; null when it never was by the end of the run. */
  readonly enterMs: number | null;
}

export interface ExpiryOutcome {
  /** Lapse → membership gone in the profile, in ms (null: not seen by the end of the run). */
  readonly exitMs: number | null;
  /** Lapse → its `Audience Exited` listed by the events API, in ms (null: not seen). */
  readonly exitedEventMs: number | null;
}

/** Polls the admin API until a probe's profile shows what is expected. */
export class MembershipPoller {
  readonly #client: JsonClient;
  readonly #ws: string;
  readonly #readerToken: string;
  readonly #eventsToken: string;
  readonly #pollMs: number;
  /** `performance.now()` after which nobody waits any longer (end of load + drain). */
  stopAt = Infinity;
  polls = 0;

  /** `readerToken` reads profiles (masked: no audit write); `eventsToken` may list events. */
  constructor(client: JsonClient, ws: string, tokens: { reader: string; events: string }, pollMs: number) {
    this.#client = client;
    this.#ws = `/api/v1/workspaces/${ws}`;
    this.#readerToken = tokens.reader;
    this.#eventsToken = tokens.events;
    this.#pollMs = pollMs;
  }

  /** From the ack (`ackMs`, `performance.now()` time) of the batch carrying it to its membership. */
  async followEntry(probe: Probe, status: number, ackMs: number): Promise<EntryOutcome> {
    if (status !== 200) return { kind: probe.kind, acked: false, enterMs: null };
    const entered = await this.#until(ackMs, () => this.#isMember(probe, true));
    return { kind: probe.kind, acked: true, enterMs: entered === null ? null : entered - ackMs };
  }

  /** From the instant the window lapses to the exit and its `Audience Exited` being visible. */
  async followExpiry(probe: Probe): Promise<ExpiryOutcome> {
    if (probe.lapseMs === null) throw new Error('not a window probe');
    // The wall clock shared with the server, as `performance.now()` time in this process.
    const lapseAt = probe.lapseMs - Date.now() + performance.now();
    const exited = await this.#until(lapseAt, () => this.#isMember(probe, false));
    if (exited === null) return { exitMs: null, exitedEventMs: null };
    const listed = await this.#until(exited, () => this.#exitedEventListed(probe));
    return { exitMs: exited - lapseAt, exitedEventMs: listed === null ? null : listed - lapseAt };
  }

  /** The instant an answer first said yes (polling from `fromMs`), or null by `stopAt`. */
  async #until(fromMs: number, check: () => Promise<number | null>): Promise<number | null> {
    await sleepUntil(fromMs);
    for (;;) {
      this.polls += 1;
      const yes = await check();
      if (yes !== null) return yes;
      const now = performance.now();
      if (now >= this.stopAt) return null;
      // Resolution within 5% of the wait so far: late probes do not flood the server with lookups.
      await sleepUntil(Math.min(now + Math.max(this.#pollMs, (now - fromMs) / 20), this.stopAt));
    }
  }

  async #isMember(probe: Probe, member: boolean): Promise<number | null> {
    const path = `${this.#ws}/profiles/lookup?type=user_id&value=${encodeURIComponent(probe.userId)}`;
    const answer = await this.#client.send('GET', path, this.#readerToken);
    if (answer.status === 404) return null;
    if (answer.status !== 200) throw new Error(`lookup answered ${answer.status}: ${answer.body}`);
    const { segments } = JSON.parse(answer.body) as { segments?: string[] };
    return (segments ?? []).includes(probe.slug) === member ? answer.atMs : null;
  }

  async #exitedEventListed(probe: Probe): Promise<number | null> {
    const query = new URLSearchParams({ event: 'Audience Exited', userId: probe.userId, limit: '10' });
    const answer = await this.#client.send('GET', `${this.#ws}/events?${query}`, this.#eventsToken);
    if (answer.status !== 200) throw new Error(`events answered ${answer.status}: ${answer.body}`);
    const { items } = JSON.parse(answer.body) as { items: { properties?: { audience_key?: unknown } }[] };
    return items.some((e) => e.properties?.audience_key === probe.slug) ? answer.atMs : null;
  }
}

function sleepUntil(perfMs: number): Promise<void> {
  const wait = perfMs - performance.now();
  return wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : Promise.resolve();
}
