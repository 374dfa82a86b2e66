import type { Kysely } from 'kysely';
import type { SessionRepository } from '../../access/access.port.ts';
import type { Session } from '../../access/user-types.ts';
import type { Database } from '../database-schema.ts';
import { toSession } from './row-mappers.ts';

export class KyselySessionRepository implements SessionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(session: Session): Promise<void> {
    await this.db
      .insertInto('user_sessions')
      .values({
        id_hash: session.idHash,
        user_id: session.userId,
        created_ms: session.createdMs,
        last_seen_ms: session.lastSeenMs,
        expires_ms: session.expiresMs,
        ip: session.ip,
        user_agent: session.userAgent,
      })
      .execute();
  }

  async find(idHash: string): Promise<Session | undefined> {
    const row = await this.db
      .selectFrom('user_sessions')
      .selectAll()
      .where('id_hash', '=', idHash)
      .executeTakeFirst();
    return row ? toSession(row) : undefined;
  }

  async touch(idHash: string, lastSeenMs: number): Promise<void> {
    await this.db
      .updateTable('user_sessions')
      .set({ last_seen_ms: lastSeenMs })
      .where('id_hash', '=', idHash)
      .where('last_seen_ms', '<', lastSeenMs)
      .execute();
  }

  async delete(idHash: string): Promise<boolean> {
    const result = await this.db.deleteFrom('user_sessions').where('id_hash', '=', idHash).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async deleteForUser(userId: string, exceptIdHash?: string): Promise<number> {
    let query = this.db.deleteFrom('user_sessions').where('user_id', '=', userId);
    if (exceptIdHash !== undefined) query = query.where('id_hash', '!=', exceptIdHash);
    return Number((await query.executeTakeFirst()).numDeletedRows);
  }

  async deleteExpired(nowMs: number, idleBeforeMs: number): Promise<number> {
    const result = await this.db
      .deleteFrom('user_sessions')
      .where((eb) => eb.or([eb('expires_ms', '<=', nowMs), eb('last_seen_ms', '<=', idleBeforeMs)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
