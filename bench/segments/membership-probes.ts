import type { JsonClient } from '../support/http-json.ts';

/**
 * Probes: messages spliced into the generator traffic that make a fresh profile (a user id never
 * seen before) qualify for one segment, so the instant its membership shows up in the admin API
 * can be timed from the ingestion ack. Window probes also leave by the clock alone.
 */
export const PROBE_KINDS = ['trait', 'count', 'funnel', 'window'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

/** The span of `active-last-minute` (`in last 1 minute`). */
export const WINDOW_MS = 60_000;

export interface Probe {
  readonly kind: ProbeKind;
  readonly userId: string;
  readonly slug: string;
  readonly messages: readonly object[];
  /** Epoch ms at which the window no longer holds the event (window probes), else null. */
  readonly lapseMs: number | null;
}

/**
 * `leadMs`: a window probe's event is stamped `WINDOW_MS − leadMs` in the past, so it is a member
 * on arrival and its window lapses `leadMs` later (an event at `ts` leaves at `ts + span + 1`).
 */
export function createProbe(kind: ProbeKind, userId: string, nowMs: number, leadMs: number): Probe {
  const id = (n: number) => `${userId}-${n}`;
  const track = (n: number, event: string, extra: object = {}) => ({
    type: 'track',
    messageId: id(n),
    userId,
    event,
    properties: { bench_probe: kind },
    ...extra,
  });
  switch (kind) {
    case 'trait':
      return {
        kind,
        userId,
        slug: 'plan-premium',
        lapseMs: null,
        messages: [{ type: 'identify', messageId: id(0), userId, traits: { plan: 'premium' } }],
      };
    case 'count':
      return {
        kind,
        userId,
        slug: 'repeat-buyers',
        lapseMs: null,
        messages: [track(0, 'Order Completed'), track(1, 'Order Completed')],
      };
    case 'funnel':
      return { kind, userId, slug: 'browse-no-buy', lapseMs: null, messages: [track(0, 'Product Viewed')] };
    case 'window': {
      const tsMs = nowMs - WINDOW_MS + leadMs;
      return {
        kind,
        userId,
        slug: 'active-last-minute',
        lapseMs: tsMs + WINDOW_MS + 1,
        messages: [track(0, 'Product Viewed', { timestamp: new Date(tsMs).toISOString() })],
      };
    }
  }
}

export interface ProbeOutcome {
  readonly kind: ProbeKind;
  readonly acked: boolean;
  /** Ack → membership visible, in ms; null when it never was by the end of the run. */
  readonly enterMs: number | null;
  /** Window probes: lapse → exit visible, in ms (null: not seen); undefined for other kinds. */
  readonly exitMs?: number | null;
}

/** Polls a profile's memberships through `GET …/profiles/lookup` until they say what is expected. */
export class MembershipPoller {
  readonly #client: JsonClient;
  readonly #path: (userId: string) => string;
  readonly #token: string;
  readonly #pollMs: number;
  /** `performance.now()` after which nobody waits any longer (end of load + drain). */
  stopAt = Infinity;
  polls = 0;

  constructor(client: JsonClient, workspace: string, token: string, pollMs: number) {
    this.#client = client;
    this.#path = (userId) =>
      `/api/v1/workspaces/${workspace}/profiles/lookup?type=user_id&value=${encodeURIComponent(userId)}`;
    this.#token = token;
    this.#pollMs = pollMs;
  }

  /** Runs one probe from its ack (`ackMs`, `performance.now()` time) to its outcome. */
  async follow(probe: Probe, status: number, ackMs: number): Promise<ProbeOutcome> {
    if (status !== 200) return { kind: probe.kind, acked: false, enterMs: null };
    // The wall clock of the server, as `performance.now()`: where the lapse falls for this process.
    const lapseAt = probe.lapseMs === null ? null : probe.lapseMs - Date.now() + performance.now();
    const entered = await this.#until(probe, true, ackMs, lapseAt ?? Infinity);
    const enterMs = entered === null ? null : entered - ackMs;
    if (lapseAt === null) return { kind: probe.kind, acked: true, enterMs };
    if (entered === null) return { kind: probe.kind, acked: true, enterMs, exitMs: null };
    await sleepUntil(lapseAt);
    const exited = await this.#until(probe, false, lapseAt, Infinity);
    return { kind: probe.kind, acked: true, enterMs, exitMs: exited === null ? null : exited - lapseAt };
  }

  /** The instant an answer first showed the expected membership, or null by `untilMs`/`stopAt`. */
  async #until(probe: Probe, member: boolean, fromMs: number, untilMs: number): Promise<number | null> {
    await sleepUntil(fromMs);
    for (;;) {
      this.polls += 1;
      const answer = await this.#client.send('GET', this.#path(probe.userId), this.#token);
      if (answer.status === 200) {
        const { segments } = JSON.parse(answer.body) as { segments?: string[] };
        if ((segments ?? []).includes(probe.slug) === member) return answer.atMs;
      } else if (answer.status !== 404) throw new Error(`lookup answered ${answer.status}: ${answer.body}`);
      const now = performance.now();
      if (now >= Math.min(untilMs, this.stopAt)) return null;
      await sleepUntil(Math.min(now + this.#pollMs, untilMs, this.stopAt));
    }
  }
}

function sleepUntil(perfMs: number): Promise<void> {
  const wait = perfMs - performance.now();
  return wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : Promise.resolve();
}
