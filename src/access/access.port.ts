import type { Page } from '../workspaces/workspaces.port.ts';
import type { ThrottleState } from './login-throttle.ts';
import type { Membership, Session, User } from './user-types.ts';

/** Hashes and checks passwords (argon2id); the hash string carries its own parameters. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant-time as to the password; false (never a throw) for a malformed hash. */
  verify(hash: string, password: string): Promise<boolean>;
  /** Whether a stored hash was made with weaker parameters than today's (rehash at sign-in). */
  needsRehash(hash: string): boolean;
}

export interface UserChanges {
  readonly updatedMs: number;
  readonly disabledMs?: number | null;
  readonly instanceOwner?: boolean;
  readonly passwordHash?: string;
}

export interface UserRepository {
  /** Resolves false when the e-mail address is taken. */
  create(user: User, passwordHash: string): Promise<boolean>;
  find(id: string): Promise<User | undefined>;
  /** With the password hash, for sign-in only. */
  findByEmail(email: string): Promise<{ user: User; passwordHash: string } | undefined>;
  list(page: Page): Promise<User[]>;
  /** Whether any user exists (the setup code is offered only while none does). */
  any(): Promise<boolean>;
  update(id: string, changes: UserChanges): Promise<boolean>;
  recordLogin(id: string, atMs: number): Promise<void>;
}

export interface MembershipRepository {
  /** Resolves false when the user is already a member of the workspace. */
  add(membership: Membership): Promise<boolean>;
  find(userId: string, workspaceId: string): Promise<Membership | undefined>;
  update(
    userId: string,
    workspaceId: string,
    changes: { role?: Membership['role']; pii?: Membership['pii']; updatedMs: number },
  ): Promise<boolean>;
  remove(userId: string, workspaceId: string): Promise<boolean>;
  listForUser(userId: string): Promise<Membership[]>;
  listForUsers(userIds: readonly string[]): Promise<Membership[]>;
  /** The members of a workspace, by user id. */
  listForWorkspace(workspaceId: string, page: Page): Promise<{ membership: Membership; user: User }[]>;
}

export interface SessionRepository {
  create(session: Session): Promise<void>;
  find(idHash: string): Promise<Session | undefined>;
  touch(idHash: string, lastSeenMs: number): Promise<void>;
  /** Resolves true when the session existed. */
  delete(idHash: string): Promise<boolean>;
  /** Every session of the user, but `exceptIdHash`; resolves how many ended. */
  deleteForUser(userId: string, exceptIdHash?: string): Promise<number>;
  /** Housekeeping: sessions past their absolute end or idle since before `idleBeforeMs`. */
  deleteExpired(nowMs: number, idleBeforeMs: number): Promise<number>;
}

/**
 * Failure counters of the sign-in rate limit, kept in the store so that every API process of
 * a scaled-out instance counts the same failures.
 */
export interface LoginThrottleRepository {
  read(keys: readonly string[]): Promise<Map<string, ThrottleState>>;
  /** Reads, computes and writes one key atomically (across processes). */
  update(key: string, next: (current: ThrottleState | undefined) => ThrottleState): Promise<ThrottleState>;
  delete(key: string): Promise<void>;
  /** Housekeeping: forgets keys untouched since `beforeMs`. */
  prune(beforeMs: number): Promise<number>;
}

/** The one-time setup code (hashed), kept while no user exists. */
export interface SetupCodeRepository {
  /** Replaces any earlier code. */
  put(codeHash: string): Promise<void>;
  /** Consumes the code atomically: resolves true for exactly one caller. */
  consume(codeHash: string): Promise<boolean>;
  clear(): Promise<void>;
}
