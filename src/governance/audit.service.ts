import type { Clock } from '../shared/clock.ts';
import {
  chainHash,
  verifyChain,
  type AuditEntry,
  type AuditFacts,
  type AuditLogRepository,
  type ChainVerdict,
} from './audit-log.ts';

/** Records who did what, when, from where, in the tamper-evident audit log; verifies the chain. */
export class AuditService {
  readonly #repository: AuditLogRepository;
  readonly #clock: Clock;

  constructor(deps: { auditLog: AuditLogRepository; clock: Clock }) {
    this.#repository = deps.auditLog;
    this.#clock = deps.clock;
  }

  record(facts: Omit<AuditFacts, 'atMs'>): Promise<AuditEntry> {
    const full: AuditFacts = { ...facts, atMs: this.#clock.now() };
    return this.#repository.append(full, (prevHash) => chainHash(prevHash, full));
  }

  list(
    workspaceId: string | null,
    options: { beforeSeq?: number | undefined; limit: number },
  ): Promise<AuditEntry[]> {
    return this.#repository.list(workspaceId, options);
  }

  /** Reads the whole log in order (the audit log stays small next to the event log). */
  async verify(): Promise<ChainVerdict> {
    const entries: AuditEntry[] = [];
    let after = 0;
    for (;;) {
      const page = await this.#repository.readAll(after, 1000);
      entries.push(...page);
      const last = page.at(-1);
      if (!last || page.length < 1000) break;
      after = last.seq;
    }
    return verifyChain(entries, await this.#repository.head());
  }
}
