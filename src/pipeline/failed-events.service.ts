import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../shared/clock.ts';
import type { EventBus } from './bus.port.ts';
import type { FailedEvent, FailedEventListOptions, FailedEventRepository } from './failed-events.port.ts';

/** Lists failed events and replays them into the stage that failed on them. */
export class FailedEventsService {
  readonly #repository: FailedEventRepository;
  readonly #bus: EventBus;
  readonly #clock: Clock;

  constructor(deps: { failedEvents: FailedEventRepository; bus: EventBus; clock: Clock }) {
    this.#repository = deps.failedEvents;
    this.#bus = deps.bus;
    this.#clock = deps.clock;
  }

  list(workspaceId: string, options: FailedEventListOptions): Promise<FailedEvent[]> {
    return this.#repository.list(workspaceId, options);
  }

  async get(workspaceId: string, id: string): Promise<FailedEvent> {
    const found = await this.#repository.find(workspaceId, id);
    if (!found) throw new AppError('failed_event.not_found', `no failed event "${id}" in this workspace`);
    return found;
  }

  async replay(workspaceId: string, id: string): Promise<FailedEvent> {
    const failed = await this.get(workspaceId, id);
    await this.#bus.redeliver(failed.stage, [failed.seq]);
    await this.#repository.markReplayed([failed.id], this.#clock.now());
    return { ...failed, status: 'replayed', replayedMs: this.#clock.now() };
  }

  /** Replays every failed event of the workspace (optionally of one stage); returns how many. */
  async replayAll(workspaceId: string, stage?: string): Promise<number> {
    let replayed = 0;
    for (;;) {
      const page = await this.#repository.list(workspaceId, { status: 'failed', stage, limit: 500 });
      if (page.length === 0) return replayed;
      const byStage = new Map<string, number[]>();
      for (const failed of page)
        byStage.set(failed.stage, [...(byStage.get(failed.stage) ?? []), failed.seq]);
      for (const [group, seqs] of byStage) await this.#bus.redeliver(group, seqs);
      await this.#repository.markReplayed(
        page.map((f) => f.id),
        this.#clock.now(),
      );
      replayed += page.length;
      if (page.length < 500) return replayed;
    }
  }
}
