import { createHash } from 'node:crypto';

/**
 * Who did something: a token (or the instance admin token), a console user, the command line,
 * the platform itself (scheduled jobs, background privacy requests), or nobody known yet (a
 * failed sign-in).
 */
export interface AuditActor {
  readonly kind: 'instance_owner' | 'workspace_token' | 'cli' | 'user' | 'anonymous' | 'system';
  readonly tokenId: string | null;
  readonly role: string | null;
  /** The console user, for `user` (and for an instance owner acting through a session). */
  readonly userId?: string;
}

export interface AuditFacts {
  readonly workspaceId: string | null;
  readonly atMs: number;
  readonly actor: AuditActor;
  readonly action: string;
  readonly target: string;
  readonly ip: string | null;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface AuditEntry extends AuditFacts {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/**
 * The chain: each entry's hash covers its facts and the previous hash, so changing or removing
 * any entry breaks every hash after it. Canonical JSON (fixed key order) keeps it stable.
 */
export function chainHash(prevHash: string, facts: AuditFacts): string {
  const canonical = JSON.stringify([
    prevHash,
    facts.workspaceId,
    facts.atMs,
    // userId joined the actor later: entries without one hash exactly as before.
    facts.actor.userId === undefined
      ? [facts.actor.kind, facts.actor.tokenId, facts.actor.role]
      : [facts.actor.kind, facts.actor.tokenId, facts.actor.role, facts.actor.userId],
    facts.action,
    facts.target,
    facts.ip,
    JSON.stringify(facts.details),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

export type ChainVerdict =
  | { readonly ok: true; readonly entries: number }
  | { readonly ok: false; readonly entries: number; readonly brokenAtSeq: number; readonly reason: string };

/**
 * Walks the whole log in order; the first entry whose links or hash do not hold is reported,
 * and the last one must be the recorded head.
 */
export function verifyChain(
  entries: Iterable<AuditEntry>,
  head: { seq: number; hash: string } | undefined,
): ChainVerdict {
  let prev = GENESIS_HASH;
  let count = 0;
  let last: AuditEntry | undefined;
  for (const entry of entries) {
    count++;
    if (entry.prevHash !== prev) {
      return {
        ok: false,
        entries: count,
        brokenAtSeq: entry.seq,
        reason: 'an entry before it was removed or changed',
      };
    }
    if (chainHash(entry.prevHash, entry) !== entry.hash) {
      return { ok: false, entries: count, brokenAtSeq: entry.seq, reason: 'this entry was changed' };
    }
    prev = entry.hash;
    last = entry;
  }
  if (head !== undefined && (last === undefined || last.seq !== head.seq || last.hash !== head.hash)) {
    return { ok: false, entries: count, brokenAtSeq: head.seq, reason: 'the newest entries were removed' };
  }
  return { ok: true, entries: count };
}

export interface AuditLogRepository {
  /**
   * Appends after the current last entry, atomically with reading its hash, and records the
   * new head (seq and hash) apart from the log, so removing the newest entries is detected too.
   * By default it returns once the entry is on disk. `waitForDisk: false` returns once it is
   * committed (in the operating system's hands: a crash of the process keeps it) and starts
   * its flush to disk at once without waiting for it; a power cut in those milliseconds can
   * drop the newest such entries, never half of one, and the chain stays whole.
   */
  append(
    facts: AuditFacts,
    hash: (prevHash: string) => string,
    options?: { readonly waitForDisk?: boolean },
  ): Promise<AuditEntry>;
  head(): Promise<{ seq: number; hash: string } | undefined>;
  /** Newest first; `null` lists the instance-level entries (sign-ins, setup, users, workspaces). */
  list(
    workspaceId: string | null,
    options: { beforeSeq?: number | undefined; limit: number },
  ): Promise<AuditEntry[]>;
  /** Every entry, oldest first, in pages (for verification). */
  readAll(afterSeq: number, limit: number): Promise<AuditEntry[]>;
}
