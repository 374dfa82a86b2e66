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
  readonly #readsWaitForDisk: boolean;

  /**
   * `readsWaitForDisk` (`CDP_AUDIT_READS_WAIT_FOR_DISK`, default true): whether a read's entry
   * must be on disk, not only committed, before the read is answered.
   */
  constructor(deps: { auditLog: AuditLogRepository; clock: Clock; readsWaitForDisk?: boolean }) {
    this.#repository = deps.auditLog;
    this.#clock = deps.clock;
    this.#readsWaitForDisk = deps.readsWaitForDisk ?? true;
  }

  /** A change, a sign-in, a privacy request: returns once the entry is on disk. */
  record(facts: Omit<AuditFacts, 'atMs'>): Promise<AuditEntry> {
    return this.#append(facts, true);
  }

  /**
   * A read of personal data, which the caller answers once this returns: by default once the
   * entry is on disk, like a change. Without `readsWaitForDisk` it returns once the entry is
   * committed (a crash of the process keeps it) and its flush to disk has started: the flush is
   * the slowest part of an audited read on some disks, and a power cut while it runs can drop
   * the entries of the reads being answered at that moment (the trade of Vault's file audit
   * device and PostgreSQL's `synchronous_commit = off`). Measured on the development machine
   * it made no difference beyond the noise at 1M profiles (docs/PERFORMANCE.md), so the strict
   * rule stays the default.
   */
  recordRead(facts: Omit<AuditFacts, 'atMs'>): Promise<AuditEntry> {
    return this.#append(facts, this.#readsWaitForDisk);
  }

  #append(facts: Omit<AuditFacts, 'atMs'>, waitForDisk: boolean): Promise<AuditEntry> {
    const full: AuditFacts = { ...facts, atMs: this.#clock.now() };
    return this.#repository.append(full, (prevHash) => chainHash(prevHash, full), { waitForDisk });
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
