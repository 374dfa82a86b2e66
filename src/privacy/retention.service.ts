/**
 * Data retention: each workspace keeps its events for `eventsDays` days after they were
 * received (default 730); a scheduled job deletes older ones, with their timeline rows, in
 * small batches, and records what it deleted in the audit log. Expired export documents go in
 * the same run.
 */
import { AppError } from '../errors/app-error.ts';
import type { AuditService } from '../governance/audit.service.ts';
import type { Clock } from '../shared/clock.ts';
import { isJsonObject, ownField } from '../shared/json.ts';
import type { WorkspaceRepository, WorkspaceSettingsRepository } from '../workspaces/workspaces.port.ts';
import type { PrivacyRequestRepository, RetentionRepository } from './privacy.port.ts';

export const RETENTION_SETTINGS = 'retention';
/**
 * Two years: long enough for year-over-year comparisons and the longest segment windows in
 * use, short enough to stay within the 25 months the French CNIL accepts for audience
 * measurement data; GDPR's storage limitation rules out "forever" as a default.
 */
export const DEFAULT_EVENTS_DAYS = 730;
const MAX_EVENTS_DAYS = 36_500;
const DAY_MS = 86_400_000;
const BATCH = 500;
/** Between two runs of the job. */
const INTERVAL_MS = 3_600_000;
/** The first run after a start. */
const FIRST_RUN_MS = 60_000;

export interface RetentionSettings {
  /** Days events are kept after they were received; null keeps them forever. */
  readonly eventsDays: number | null;
}

export function validateRetentionSettings(input: unknown): RetentionSettings {
  const days = isJsonObject(input) ? ownField(input, 'eventsDays') : undefined;
  const unknown = isJsonObject(input) ? Object.keys(input).filter((k) => k !== 'eventsDays') : [];
  if (
    !isJsonObject(input) ||
    unknown.length > 0 ||
    !(
      days === null ||
      (typeof days === 'number' && Number.isInteger(days) && days >= 1 && days <= MAX_EVENTS_DAYS)
    )
  )
    throw new AppError(
      'settings.invalid',
      `retention settings are {"eventsDays": N} with N a whole number of days from 1 to ${MAX_EVENTS_DAYS}, or null to keep events forever`,
    );
  return { eventsDays: days };
}

export interface RetentionRun {
  readonly workspaces: readonly {
    readonly workspaceId: string;
    readonly eventsDeleted: number;
    readonly cutoff: string;
  }[];
  readonly exportsDeleted: number;
}

export class RetentionService {
  #first: NodeJS.Timeout | undefined;
  #interval: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(
    private readonly deps: {
      readonly retention: RetentionRepository;
      readonly requests: PrivacyRequestRepository;
      readonly workspaces: WorkspaceRepository;
      readonly settings: WorkspaceSettingsRepository;
      readonly audit: AuditService;
      readonly clock: Clock;
      readonly onError?: (error: unknown) => void;
    },
  ) {}

  async settings(workspaceId: string): Promise<RetentionSettings> {
    const stored = await this.deps.settings.get(workspaceId, RETENTION_SETTINGS);
    if (stored === undefined) return { eventsDays: DEFAULT_EVENTS_DAYS };
    try {
      return validateRetentionSettings(stored);
    } catch {
      return { eventsDays: DEFAULT_EVENTS_DAYS };
    }
  }

  async putSettings(workspaceId: string, input: unknown): Promise<RetentionSettings> {
    const settings = validateRetentionSettings(input);
    await this.deps.settings.put(workspaceId, RETENTION_SETTINGS, settings, this.deps.clock.now());
    return settings;
  }

  /** Runs the job a minute after the start, then every hour. */
  start(): void {
    this.#stopped = false;
    const tick = (): void => {
      this.#running ??= this.runOnce()
        .catch((error: unknown) => this.deps.onError?.(error))
        .finally(() => (this.#running = undefined));
    };
    this.#first = setTimeout(tick, FIRST_RUN_MS);
    this.#first.unref();
    this.#interval = setInterval(tick, INTERVAL_MS);
    this.#interval.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#first);
    clearInterval(this.#interval);
    await this.#running;
  }

  /** One run over every workspace; batches yield to other work in between. */
  async runOnce(): Promise<RetentionRun> {
    const nowMs = this.deps.clock.now();
    const done: { workspaceId: string; eventsDeleted: number; cutoff: string }[] = [];
    let afterId: string | undefined;
    for (;;) {
      const page = await this.deps.workspaces.list({ limit: 200, afterId });
      for (const workspace of page) {
        if (this.#stopped) break;
        const { eventsDays } = await this.settings(workspace.id);
        if (eventsDays === null) continue;
        const cutoffMs = nowMs - eventsDays * DAY_MS;
        let deleted = 0;
        for (;;) {
          const n = await this.deps.retention.deleteEventsBefore(workspace.id, cutoffMs, BATCH);
          deleted += n;
          if (n === 0 || this.#stopped) break;
          await new Promise((resolve) => setImmediate(resolve));
        }
        if (deleted === 0) continue;
        const cutoff = new Date(cutoffMs).toISOString();
        done.push({ workspaceId: workspace.id, eventsDeleted: deleted, cutoff });
        await this.deps.audit.record({
          workspaceId: workspace.id,
          actor: { kind: 'system', tokenId: null, role: null },
          action: 'retention events deleted',
          target: JSON.stringify({ ws: workspace.slug }),
          ip: null,
          details: { kind: 'change', eventsDeleted: deleted, receivedBefore: cutoff, eventsDays },
        });
      }
      afterId = page.at(-1)?.id;
      if (page.length < 200 || this.#stopped) break;
    }
    const exportsDeleted = await this.deps.requests.deleteExpiredExports(nowMs);
    return { workspaces: done, exportsDeleted };
  }
}
