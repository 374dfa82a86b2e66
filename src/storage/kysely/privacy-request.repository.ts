import { sql, type Kysely, type Selectable } from 'kysely';
import type {
  PrivacyRequest,
  PrivacyRequestRepository,
  PrivacyRequestStatus,
  PrivacyRequestType,
  SuppressionRepository,
} from '../../privacy/privacy.port.ts';
import { isSealed } from '../../privacy/pii-vault.ts';
import type { JsonObject } from '../../shared/json.ts';
import type { Database } from '../database-schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import type { PiiSealing } from './pii-sealing.ts';
import { LOCK_CLASS, workspaceWrite, type Db } from './workspace-write.ts';

const optNum = (value: number | string | null): number | null => (value === null ? null : Number(value));

function toRequest(row: Selectable<Database['privacy_requests']>): PrivacyRequest {
  return {
    workspaceId: row.workspace_id,
    id: row.id,
    type: row.type as PrivacyRequestType,
    status: row.status as PrivacyRequestStatus,
    identifierType: row.identifier_type,
    identifierValue: row.identifier_value,
    identifierHash: row.identifier_hash,
    requestedBy: row.requested_by,
    createdMs: Number(row.created_ms),
    startedMs: optNum(row.started_ms),
    finishedMs: optNum(row.finished_ms),
    leaseUntilMs: optNum(row.lease_until_ms),
    attempts: Number(row.attempts),
    result: row.result === null ? null : (JSON.parse(row.result) as JsonObject),
    error:
      row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? row.error_code },
  };
}

/**
 * Privacy requests and their export documents. A document is everything stored about a person,
 * opened (e-mail, phone, name, IP in clear): it is stored sealed with the active data key like
 * every other personal value (pii-vault.ts), and re-sealed by a key rotation (pii-reseal.ts).
 */
export class KyselyPrivacyRequestRepository implements PrivacyRequestRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sealing: PiiSealing,
  ) {}

  async create(r: PrivacyRequest): Promise<void> {
    await this.db
      .insertInto('privacy_requests')
      .values({
        workspace_id: r.workspaceId,
        id: r.id,
        type: r.type,
        status: r.status,
        identifier_type: r.identifierType,
        identifier_value: r.identifierValue,
        identifier_hash: r.identifierHash,
        requested_by: r.requestedBy,
        created_ms: r.createdMs,
        started_ms: r.startedMs,
        finished_ms: r.finishedMs,
        lease_until_ms: r.leaseUntilMs,
        attempts: r.attempts,
        result: r.result === null ? null : JSON.stringify(r.result),
        error_code: r.error?.code ?? null,
        error_message: r.error?.message ?? null,
      })
      .execute();
  }

  async get(workspaceId: string, id: string): Promise<PrivacyRequest | undefined> {
    const row = await this.db
      .selectFrom('privacy_requests')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRequest(row);
  }

  async list(
    workspaceId: string,
    query: { before?: { createdMs: number; id: string } | undefined; limit: number },
  ): Promise<PrivacyRequest[]> {
    let builder = this.db.selectFrom('privacy_requests').selectAll().where('workspace_id', '=', workspaceId);
    const before = query.before;
    if (before !== undefined)
      builder = builder.where((eb) =>
        eb.or([
          eb('created_ms', '<', before.createdMs),
          eb.and([eb('created_ms', '=', before.createdMs), eb('id', '<', before.id)]),
        ]),
      );
    const rows = await builder
      .orderBy('created_ms', 'desc')
      .orderBy('id', 'desc')
      .limit(query.limit)
      .execute();
    return rows.map(toRequest);
  }

  async claim(
    nowMs: number,
    leaseMs: number,
    which?: { workspaceId: string; id: string },
  ): Promise<PrivacyRequest | undefined> {
    // Candidates first, then a conditional UPDATE per candidate: exactly one process wins it.
    let candidates = this.db
      .selectFrom('privacy_requests')
      .select(['workspace_id', 'id', 'status', 'lease_until_ms'])
      .where((eb) =>
        eb.or([
          eb('status', '=', 'pending'),
          eb.and([eb('status', '=', 'running'), eb('lease_until_ms', '<', nowMs)]),
        ]),
      );
    if (which !== undefined)
      candidates = candidates.where('workspace_id', '=', which.workspaceId).where('id', '=', which.id);
    const rows = await candidates.orderBy('created_ms').orderBy('id').limit(5).execute();
    for (const row of rows) {
      const updated = await this.db
        .updateTable('privacy_requests')
        .set((eb) => ({
          status: 'running',
          started_ms: eb.fn.coalesce('started_ms', sql.lit(nowMs)),
          lease_until_ms: nowMs + leaseMs,
          attempts: eb('attempts', '+', 1),
        }))
        .where('workspace_id', '=', row.workspace_id)
        .where('id', '=', row.id)
        .where('status', '=', row.status)
        .where((eb) =>
          row.lease_until_ms === null
            ? eb('lease_until_ms', 'is', null)
            : eb('lease_until_ms', '=', Number(row.lease_until_ms)),
        )
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 1) return this.get(row.workspace_id, row.id);
    }
    return undefined;
  }

  async renewLease(workspaceId: string, id: string, leaseUntilMs: number): Promise<void> {
    await this.db
      .updateTable('privacy_requests')
      .set({ lease_until_ms: leaseUntilMs })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .where('status', '=', 'running')
      .execute();
  }

  async recordOutcome(
    workspaceId: string,
    id: string,
    outcome: {
      result: JsonObject | null;
      error: { code: string; message: string } | null;
      finishedMs: number;
    },
  ): Promise<void> {
    await this.db
      .updateTable('privacy_requests')
      .set({
        identifier_value: null,
        finished_ms: outcome.finishedMs,
        result: outcome.result === null ? null : JSON.stringify(outcome.result),
        error_code: outcome.error?.code ?? null,
        error_message: outcome.error?.message ?? null,
      })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .where('status', '=', 'running')
      .execute();
  }

  async settle(workspaceId: string, id: string): Promise<void> {
    await this.db
      .updateTable('privacy_requests')
      .set((eb) => ({
        status: eb.case().when('error_code', 'is', null).then('completed').else('failed').end(),
        lease_until_ms: null,
      }))
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .where('status', '=', 'running')
      .where('finished_ms', 'is not', null)
      .execute();
  }

  async saveExport(
    workspaceId: string,
    requestId: string,
    document: string,
    nowMs: number,
    expiresMs: number,
  ): Promise<void> {
    await this.db
      .insertInto('privacy_exports')
      .values({
        request_id: requestId,
        workspace_id: workspaceId,
        // Sealed as one value (a store without a vault keeps it as it is, as pii-sealing.ts does).
        document: this.sealing.vault?.seal(document) ?? document,
        created_ms: nowMs,
        expires_ms: expiresMs,
      })
      .onConflict((oc) =>
        oc.column('request_id').doUpdateSet((eb) => ({
          document: eb.ref('excluded.document'),
          created_ms: eb.ref('excluded.created_ms'),
          expires_ms: eb.ref('excluded.expires_ms'),
        })),
      )
      .execute();
  }

  async readExport(workspaceId: string, requestId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('privacy_exports')
      .select('document')
      .where('workspace_id', '=', workspaceId)
      .where('request_id', '=', requestId)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    // The vault itself, not `sealing.open`: that remembers opened values, and a document is
    // large and read once. A document stored before sealing comes back as it is.
    const vault = this.sealing.vault;
    if (vault === undefined || !isSealed(row.document)) return row.document;
    const opened = vault.open(row.document);
    // What does not open comes back unchanged (a key retired too early): never hand out that.
    if (typeof opened !== 'string' || opened === row.document)
      throw new Error(`the export document of ${requestId} does not open with the key ring`);
    return opened;
  }

  async deleteExpiredExports(nowMs: number): Promise<number> {
    const result = await this.db
      .deleteFrom('privacy_exports')
      .where('expires_ms', '<=', nowMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

export class KyselySuppressionRepository implements SuppressionRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
  ) {}

  async add(workspaceId: string, hashes: readonly string[], requestId: string, nowMs: number): Promise<void> {
    await workspaceWrite(this.db, this.dialect, LOCK_CLASS.privacy, workspaceId, async (trx) => {
      if (hashes.length > 0)
        await trx
          .insertInto('privacy_suppressions')
          .values(
            [...new Set(hashes)].map((id_hash) => ({
              workspace_id: workspaceId,
              id_hash,
              request_id: requestId,
              created_ms: nowMs,
            })),
          )
          .onConflict((oc) => oc.doNothing())
          .execute();
      await bumpVersion(trx, workspaceId, nowMs);
    });
  }

  async removeGroupOf(workspaceId: string, hash: string, nowMs: number): Promise<number> {
    return workspaceWrite(this.db, this.dialect, LOCK_CLASS.privacy, workspaceId, async (trx) => {
      const row = await trx
        .selectFrom('privacy_suppressions')
        .select('request_id')
        .where('workspace_id', '=', workspaceId)
        .where('id_hash', '=', hash)
        .executeTakeFirst();
      if (row === undefined) return 0;
      const deleted = await trx
        .deleteFrom('privacy_suppressions')
        .where('workspace_id', '=', workspaceId)
        .where('request_id', '=', row.request_id)
        .executeTakeFirst();
      await bumpVersion(trx, workspaceId, nowMs);
      return Number(deleted.numDeletedRows);
    });
  }

  async hashes(workspaceId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('privacy_suppressions')
      .select('id_hash')
      .where('workspace_id', '=', workspaceId)
      .execute();
    return rows.map((r) => r.id_hash);
  }

  async states(): Promise<Map<string, { version: number; droppedEvents: number }>> {
    const rows = await this.db.selectFrom('privacy_suppression_state').selectAll().execute();
    return new Map(
      rows.map((r) => [
        r.workspace_id,
        { version: Number(r.version), droppedEvents: Number(r.dropped_events) },
      ]),
    );
  }

  async addDropped(counts: ReadonlyMap<string, number>, nowMs: number): Promise<void> {
    for (const [workspaceId, n] of counts) {
      await this.db
        .insertInto('privacy_suppression_state')
        .values({ workspace_id: workspaceId, version: 0, dropped_events: n, updated_ms: nowMs })
        .onConflict((oc) =>
          oc.column('workspace_id').doUpdateSet((eb) => ({
            dropped_events: eb('privacy_suppression_state.dropped_events', '+', n),
          })),
        )
        .execute();
    }
  }
}

async function bumpVersion(trx: Db, workspaceId: string, nowMs: number): Promise<void> {
  await trx
    .insertInto('privacy_suppression_state')
    .values({ workspace_id: workspaceId, version: 1, dropped_events: 0, updated_ms: nowMs })
    .onConflict((oc) =>
      oc.column('workspace_id').doUpdateSet((eb) => ({
        version: eb('privacy_suppression_state.version', '+', 1),
        updated_ms: nowMs,
      })),
    )
    .execute();
}
