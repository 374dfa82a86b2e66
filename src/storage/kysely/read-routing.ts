import type { Kysely } from 'kysely';
import type { Database } from '../database-schema.ts';

/**
 * Where a repository's stand-alone reads run: the store's instance, or, on SQLite while a
 * pipeline batch (replayable work: sqlite/lock-waiting-dialect.ts) holds the main connection for
 * up to its time budget, a read-only connection of its own (sqlite/sqlite-store.ts). In WAL mode
 * that reader does not wait for the writer and sees everything committed; the batch's work is
 * not committed yet, so the answer is the one a read just before the batch began would have had.
 * On PostgreSQL, whose pool has a connection for each, it is always the store's instance.
 *
 * Only reads whose answer is the end of the story go through it: a token's or a workspace's
 * resolution, settings, listings, counts, a profile view's parts (`Store.profileViews`), a
 * segment with its members, size and history, a profile's consent, destinations with their
 * delivery counts and deliveries, a pipeline stage's committed cursor. A read
 * that decides a write stays on the main connection (`Store.profiles`: the profile an unmerge or
 * a consent change resolves), so it sees what the batch under way committed.
 */
export type ReadRouting = () => Kysely<Database>;
