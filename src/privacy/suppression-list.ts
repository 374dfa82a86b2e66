/**
 * The suppression list on the ack path: events carrying an identifier of a suppressed person
 * are dropped after decoding, before the group commit, and counted; they are never stored.
 * Each process holds the keyed hashes in memory, per workspace, loaded at start and reloaded
 * when the workspace's version changes (its own changes at once, other processes' within one
 * poll). Without any suppression the check is one Map lookup per request.
 */
import { createBlockedValues, type BlockedValues } from '../identity/blocked-values.ts';
import { extractIdentifiers } from '../identity/extract-identifiers.ts';
import type { IdentitySettings } from '../identity/identity-settings.ts';
import { payloadText } from '../ingestion/accepted-batch.ts';
import type { AcceptedEvent } from '../ingestion/message-types.ts';
import type { JsonObject } from '../shared/json.ts';
import type { SuppressionRepository } from './privacy.port.ts';
import type { SuppressionHasher } from './suppression-hasher.ts';

interface WorkspaceList {
  readonly version: number;
  readonly hashes: ReadonlySet<string>;
  readonly settings: IdentitySettings;
  readonly blocked: BlockedValues;
}

/** Only these fields can carry identifiers besides userId and anonymousId. */
const PAYLOAD_IDENTIFIER_FIELDS = ['"email"', '"phone"', '"externalIds"'];

export interface SuppressionListDeps {
  readonly repository: SuppressionRepository;
  readonly hasher: SuppressionHasher;
  readonly identitySettings: (workspaceId: string) => Promise<IdentitySettings>;
  readonly now: () => number;
  /** Told how many events were dropped (metrics). */
  readonly onDropped?: (count: number) => void;
  readonly pollIntervalMs?: number;
  /** Opens the sealed fields of a stored message (payload-sealing.ts). */
  readonly openMessage?: (message: JsonObject) => JsonObject;
}

export class SuppressionList {
  readonly #deps: SuppressionListDeps;
  readonly #lists = new Map<string, WorkspaceList>();
  /** Dropped since the last flush, per workspace. */
  readonly #pending = new Map<string, number>();
  readonly #stored = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;

  constructor(deps: SuppressionListDeps) {
    this.#deps = deps;
  }

  /**
   * Reads every workspace's list (at start), then polls for other processes' changes. The
   * polling starts first: should the first read fail (the store unreachable for a moment), it
   * is what reads the lists once the store answers, while the rejection goes to the caller.
   */
  async start(): Promise<void> {
    this.#timer = setInterval(() => {
      this.#polling ??= this.#poll().finally(() => (this.#polling = undefined));
    }, this.#deps.pollIntervalMs ?? 2_000);
    this.#timer.unref();
    await this.refresh();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#polling;
    await this.flush();
  }

  /** Reloads the lists whose version changed (all of them the first time). */
  async refresh(workspaceId?: string): Promise<void> {
    const states = await this.#deps.repository.states();
    for (const [ws, state] of states) {
      this.#stored.set(ws, state.droppedEvents);
      if (workspaceId !== undefined && ws !== workspaceId) continue;
      const current = this.#lists.get(ws);
      if (current?.version === state.version && workspaceId === undefined) continue;
      const hashes = await this.#deps.repository.hashes(ws);
      if (hashes.length === 0) {
        this.#lists.delete(ws);
        continue;
      }
      const settings = await this.#deps.identitySettings(ws);
      this.#lists.set(ws, {
        version: state.version,
        hashes: new Set(hashes),
        settings,
        blocked: createBlockedValues(settings),
      });
    }
  }

  /** The events to store: those of suppressed people are left out and counted. */
  readonly screen = (events: AcceptedEvent[]): AcceptedEvent[] => {
    if (this.#lists.size === 0) return events;
    let kept: AcceptedEvent[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as AcceptedEvent;
      const list = this.#lists.get(event.workspaceId);
      const drop = list !== undefined && this.#suppressed(event, list);
      if (drop) {
        kept ??= events.slice(0, i);
        this.#pending.set(event.workspaceId, (this.#pending.get(event.workspaceId) ?? 0) + 1);
        this.#deps.onDropped?.(1);
      } else kept?.push(event);
    }
    return kept ?? events;
  };

  /** Events dropped in the workspace so far (stored counts plus this process's unflushed ones). */
  dropped(workspaceId: string): number {
    return (this.#stored.get(workspaceId) ?? 0) + (this.#pending.get(workspaceId) ?? 0);
  }

  isSuppressed(workspaceId: string, hash: string): boolean {
    return this.#lists.get(workspaceId)?.hashes.has(hash) ?? false;
  }

  async flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    const counts = new Map(this.#pending);
    this.#pending.clear();
    try {
      await this.#deps.repository.addDropped(counts, this.#deps.now());
      for (const [ws, n] of counts) this.#stored.set(ws, (this.#stored.get(ws) ?? 0) + n);
    } catch (error) {
      for (const [ws, n] of counts) this.#pending.set(ws, (this.#pending.get(ws) ?? 0) + n);
      throw error;
    }
  }

  async #poll(): Promise<void> {
    try {
      await this.flush();
      await this.refresh();
    } catch {
      // The store is unreachable for a moment: the lists in memory stay as they were.
    }
  }

  #suppressed(event: AcceptedEvent, list: WorkspaceList): boolean {
    // Most events carry only userId/anonymousId (indexed fields): the payload is parsed only
    // when it may hold another identifier.
    const text = payloadText(event.payload);
    const parse = event.type === 'alias' || PAYLOAD_IDENTIFIER_FIELDS.some((f) => text.includes(f));
    const parsed = parse ? (JSON.parse(text) as JsonObject) : {};
    // The payload's personal fields are sealed by now: open them to read the identifiers.
    const message = parse && this.#deps.openMessage ? this.#deps.openMessage(parsed) : parsed;
    const { identifiers } = extractIdentifiers(
      { type: event.type, userId: event.userId, anonymousId: event.anonymousId, message },
      list.settings,
      list.blocked,
    );
    return identifiers.some((identifier) => list.hashes.has(this.#deps.hasher.hash(identifier)));
  }
}
