import type { Kysely, Selectable } from 'kysely';
import type {
  ClaimedDelivery,
  Delivery,
  DeliveryCounts,
  DeliveryKind,
  DeliveryStatus,
  Destination,
  DestinationType,
} from '../../destinations/destination-types.ts';
import type {
  DeletionCallRow,
  DeliverySettlement,
  DestinationRepository,
  EventConsent,
  EventDeliveryRow,
} from '../../destinations/destinations.port.ts';
import { isJsonObject, type JsonValue } from '../../shared/json.ts';
import type { Database } from '../database-schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import type { PiiSealing } from './pii-sealing.ts';
import type { ReadRouting } from './read-routing.ts';
import { chunks, writeTransaction } from './workspace-write.ts';

const IN_CHUNK = 500;
type DestinationRow = Selectable<Database['destinations']>;
type DeliveryRow = Selectable<Database['destination_deliveries']>;

const DELIVERY_COLUMNS = [
  'id',
  'workspace_id',
  'destination_id',
  'kind',
  'event_seq',
  'profile_id',
  'request_id',
  'status',
  'attempts',
  'next_attempt_ms',
  'first_attempt_ms',
  'last_attempt_ms',
  'last_status',
  'last_error',
  'created_ms',
] as const;

const num = (value: number | string | null): number | null => (value === null ? null : Number(value));

function toDelivery(row: Omit<DeliveryRow, 'payload'>): Delivery {
  return {
    id: Number(row.id),
    workspaceId: row.workspace_id,
    destinationId: row.destination_id,
    kind: row.kind as DeliveryKind,
    eventSeq: num(row.event_seq),
    profileId: row.profile_id,
    requestId: row.request_id,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    createdMs: Number(row.created_ms),
    firstAttemptMs: num(row.first_attempt_ms),
    lastAttemptMs: num(row.last_attempt_ms),
    nextAttemptMs: num(row.next_attempt_ms),
    lastStatus: num(row.last_status),
    lastError: row.last_error,
  };
}

/** A new outbox row, due now: what differs between an event and a deletion call is `what`. */
function queuedRow(
  workspaceId: string,
  destinationId: string,
  nowMs: number,
  what: Pick<DeliveryRow, 'kind' | 'event_seq' | 'profile_id' | 'request_id' | 'payload'>,
) {
  return {
    workspace_id: workspaceId,
    destination_id: destinationId,
    ...what,
    status: 'queued',
    attempts: 0,
    next_attempt_ms: nowMs,
    first_attempt_ms: null,
    last_attempt_ms: null,
    last_status: null,
    last_error: null,
    created_ms: nowMs,
  };
}

/**
 * Destinations and the delivery outbox over Kysely, both dialects. The signing secret and the
 * messages of deletion calls are sealed with the data key like other personal values.
 */
export class KyselyDestinationRepository implements DestinationRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
    private readonly sealing: PiiSealing,
    /**
     * For the API's answers: a destination, the list, its delivery counts and deliveries
     * (read-routing.ts). `get` also precedes an update, which may read through it: no pipeline
     * batch writes a destination's row, so the reader's answer is the main connection's. What
     * the router and the delivery worker read to queue, claim and settle stays on `db`.
     */
    private readonly reads: ReadRouting = () => db,
  ) {}

  #seal(value: JsonValue): string {
    const vault = this.sealing.vault;
    return vault === undefined ? JSON.stringify(value) : JSON.stringify(vault.seal(value));
  }

  #open(text: string): JsonValue {
    return this.sealing.open(JSON.parse(text) as JsonValue);
  }

  #toDestination(row: DestinationRow): Destination {
    const secret = this.#open(row.secret);
    return {
      id: row.id,
      workspaceId: row.workspace_id,
      type: row.type as DestinationType,
      name: row.name,
      config: {
        url: row.url,
        secret: typeof secret === 'string' ? secret : '',
        sendDeletions: Number(row.send_deletions) === 1,
      },
      filter: row.filter,
      segments: JSON.parse(row.segments) as string[],
      consentCategories: JSON.parse(row.consent_categories) as string[],
      enabled: Number(row.enabled) === 1,
      createdMs: Number(row.created_ms),
      updatedMs: Number(row.updated_ms),
    };
  }

  #row(d: Destination): DestinationRow {
    return {
      workspace_id: d.workspaceId,
      id: d.id,
      type: d.type,
      name: d.name,
      url: d.config.url,
      secret: this.#seal(d.config.secret),
      send_deletions: d.config.sendDeletions ? 1 : 0,
      filter: d.filter,
      segments: JSON.stringify(d.segments),
      consent_categories: JSON.stringify(d.consentCategories),
      enabled: d.enabled ? 1 : 0,
      created_ms: d.createdMs,
      updated_ms: d.updatedMs,
    };
  }

  async create(destination: Destination): Promise<void> {
    await this.db.insertInto('destinations').values(this.#row(destination)).execute();
  }

  async get(workspaceId: string, id: string): Promise<Destination | undefined> {
    const row = await this.reads()
      .selectFrom('destinations')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : this.#toDestination(row);
  }

  async list(
    workspaceId: string,
    query: { afterId?: string | undefined; limit: number },
  ): Promise<Destination[]> {
    let q = this.reads().selectFrom('destinations').selectAll().where('workspace_id', '=', workspaceId);
    if (query.afterId !== undefined) q = q.where('id', '>', query.afterId);
    const rows = await q.orderBy('id').limit(query.limit).execute();
    return rows.map((row) => this.#toDestination(row));
  }

  async update(destination: Destination): Promise<void> {
    const { workspace_id, id, created_ms: _created, ...rest } = this.#row(destination);
    await this.db
      .updateTable('destinations')
      .set(rest)
      .where('workspace_id', '=', workspace_id)
      .where('id', '=', id)
      .execute();
  }

  async delete(workspaceId: string, id: string): Promise<boolean> {
    return writeTransaction(this.db, this.dialect, async (trx) => {
      await trx
        .deleteFrom('destination_deliveries')
        .where('workspace_id', '=', workspaceId)
        .where('destination_id', '=', id)
        .where('status', '!=', 'delivered')
        .execute();
      // Delivered deletion calls keep nothing personal; their record goes with the destination.
      await trx
        .deleteFrom('destination_deliveries')
        .where('workspace_id', '=', workspaceId)
        .where('destination_id', '=', id)
        .where('kind', '=', 'deletion')
        .execute();
      const deleted = await trx
        .deleteFrom('destinations')
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(deleted.numDeletedRows) > 0;
    });
  }

  async enabledIn(workspaceId: string): Promise<Destination[]> {
    const rows = await this.db
      .selectFrom('destinations')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('enabled', '=', 1)
      .orderBy('id')
      .execute();
    return rows.map((row) => this.#toDestination(row));
  }

  async enqueue(workspaceId: string, rows: readonly EventDeliveryRow[], nowMs: number): Promise<number> {
    if (rows.length === 0) return 0;
    return writeTransaction(
      this.db,
      this.dialect,
      async (trx) => {
        let added = 0;
        for (const part of chunks([...rows], IN_CHUNK)) {
          const result = await trx
            .insertInto('destination_deliveries')
            .values(
              part.map((r) =>
                queuedRow(workspaceId, r.destinationId, nowMs, {
                  kind: 'event',
                  event_seq: r.eventSeq,
                  profile_id: r.profileId,
                  request_id: null,
                  payload: null,
                }),
              ),
            )
            .onConflict((oc) => oc.columns(['workspace_id', 'destination_id', 'event_seq']).doNothing())
            .executeTakeFirst();
          added += Number(result.numInsertedOrUpdatedRows ?? 0);
        }
        return added;
      },
      // Derived from the log: a power cut loses these only together with the cursor after them.
      { replayable: true },
    );
  }

  async enqueueDeletions(
    workspaceId: string,
    rows: readonly DeletionCallRow[],
    nowMs: number,
  ): Promise<number> {
    if (rows.length === 0) return 0;
    const result = await this.db
      .insertInto('destination_deliveries')
      .values(
        rows.map((r) =>
          queuedRow(workspaceId, r.destinationId, nowMs, {
            kind: 'deletion',
            event_seq: null,
            profile_id: null,
            request_id: r.requestId,
            payload: this.#seal(r.payload as JsonValue),
          }),
        ),
      )
      .onConflict((oc) => oc.columns(['workspace_id', 'destination_id', 'request_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0);
  }

  async dueDestinations(
    nowMs: number,
    limit: number,
  ): Promise<{ workspaceId: string; destinationId: string }[]> {
    const rows = await this.#dueOfEnabled(nowMs)
      .select(['d.workspace_id', 'd.destination_id'])
      .distinct()
      .limit(limit)
      .execute();
    return rows.map((r) => ({ workspaceId: r.workspace_id, destinationId: r.destination_id }));
  }

  /** Queued deliveries of enabled destinations (a disabled one keeps its queue until enabled). */
  #dueOfEnabled(beforeMs: number | null) {
    let q = this.db
      .selectFrom('destination_deliveries as d')
      .innerJoin('destinations as t', (join) =>
        join.onRef('t.workspace_id', '=', 'd.workspace_id').onRef('t.id', '=', 'd.destination_id'),
      )
      .where('d.status', '=', 'queued')
      .where('t.enabled', '=', 1);
    if (beforeMs !== null) q = q.where('d.next_attempt_ms', '<=', beforeMs);
    return q;
  }

  async claim(
    workspaceId: string,
    destinationId: string,
    nowMs: number,
    leaseMs: number,
    limit: number,
  ): Promise<ClaimedDelivery[]> {
    const ids = (
      await this.db
        .selectFrom('destination_deliveries')
        .select('id')
        .where('workspace_id', '=', workspaceId)
        .where('destination_id', '=', destinationId)
        .where('status', '=', 'queued')
        .where('next_attempt_ms', '<=', nowMs)
        .orderBy('id')
        .limit(limit)
        .execute()
    ).map((r) => Number(r.id));
    if (ids.length === 0) return [];
    // The condition is checked again by the UPDATE: of two processes, only one takes a row.
    const rows = await this.db
      .updateTable('destination_deliveries')
      .set((eb) => ({
        next_attempt_ms: nowMs + leaseMs,
        attempts: eb('attempts', '+', 1),
        first_attempt_ms: eb.fn.coalesce('first_attempt_ms', eb.val(nowMs)),
        last_attempt_ms: nowMs,
      }))
      .where('id', 'in', ids)
      .where('status', '=', 'queued')
      .where('next_attempt_ms', '<=', nowMs)
      .returning([...DELIVERY_COLUMNS, 'payload'])
      .execute();
    return rows
      .map((row) => {
        const payload = row.payload === null ? null : this.#open(row.payload);
        return { ...toDelivery(row), payload: isJsonObject(payload) ? payload : null };
      })
      .sort((a, b) => a.id - b.id);
  }

  async settle(workspaceId: string, settlements: readonly DeliverySettlement[]): Promise<void> {
    if (settlements.length === 0) return;
    await writeTransaction(this.db, this.dialect, async (trx) => {
      for (const s of settlements)
        await trx
          .updateTable('destination_deliveries')
          .set((eb) => ({
            status: s.status,
            next_attempt_ms: s.nextAttemptMs,
            last_attempt_ms: s.attemptMs,
            last_status: s.lastStatus,
            last_error: s.lastError === null ? null : s.lastError.slice(0, 500),
            // A sent deletion call keeps nothing of the person.
            payload: s.status === 'delivered' ? null : eb.ref('payload'),
          }))
          .where('workspace_id', '=', workspaceId)
          .where('id', '=', s.id)
          .execute();
    });
  }

  async nextDue(): Promise<number | null> {
    const row = await this.#dueOfEnabled(null)
      .select((eb) => eb.fn.min('d.next_attempt_ms').as('due'))
      .executeTakeFirst();
    return row?.due === null || row?.due === undefined ? null : Number(row.due);
  }

  async consentOfEvents(workspaceId: string, seqs: readonly number[]): Promise<Map<number, EventConsent>> {
    const out = new Map<number, EventConsent>();
    const profileOf = new Map<number, string>();
    for (const part of chunks([...seqs], IN_CHUNK)) {
      const rows = await this.db
        .selectFrom('events')
        .leftJoin('profile_events', (join) =>
          join
            .onRef('profile_events.workspace_id', '=', 'events.workspace_id')
            .onRef('profile_events.seq', '=', 'events.seq'),
        )
        .select(['events.seq as seq', 'profile_events.profile_id as profile_id'])
        .where('events.workspace_id', '=', workspaceId)
        .where('events.seq', 'in', part)
        .execute();
      for (const row of rows) {
        if (row.profile_id !== null) profileOf.set(Number(row.seq), row.profile_id);
        else out.set(Number(row.seq), { profileId: null, consent: new Map() });
      }
    }
    const consent = new Map<string, Map<string, boolean>>();
    for (const part of chunks([...new Set(profileOf.values())], IN_CHUNK)) {
      const rows = await this.db
        .selectFrom('profile_consent')
        .select(['profile_id', 'category', 'granted'])
        .where('workspace_id', '=', workspaceId)
        .where('profile_id', 'in', part)
        .execute();
      for (const row of rows) {
        let values = consent.get(row.profile_id);
        if (values === undefined) consent.set(row.profile_id, (values = new Map()));
        values.set(row.category, Number(row.granted) === 1);
      }
    }
    for (const [seq, profileId] of profileOf)
      out.set(seq, { profileId, consent: consent.get(profileId) ?? new Map() });
    return out;
  }

  async deliveries(
    workspaceId: string,
    destinationId: string,
    query: { status?: DeliveryStatus | undefined; beforeId?: number | undefined; limit: number },
  ): Promise<Delivery[]> {
    let q = this.reads()
      .selectFrom('destination_deliveries')
      .select(DELIVERY_COLUMNS)
      .where('workspace_id', '=', workspaceId)
      .where('destination_id', '=', destinationId);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.beforeId !== undefined) q = q.where('id', '<', query.beforeId);
    const rows = await q.orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(toDelivery);
  }

  async counts(workspaceId: string, destinationId: string): Promise<DeliveryCounts> {
    const rows = await this.reads()
      .selectFrom('destination_deliveries')
      .select(['status', (eb) => eb.fn.countAll().as('n')])
      .where('workspace_id', '=', workspaceId)
      .where('destination_id', '=', destinationId)
      .groupBy('status')
      .execute();
    const counts = { queued: 0, delivered: 0, failed: 0, dropped: 0 };
    for (const row of rows)
      if (row.status in counts) counts[row.status as keyof typeof counts] = Number(row.n);
    return counts;
  }

  async retryFailed(
    workspaceId: string,
    destinationId: string,
    ids: readonly number[] | undefined,
    nowMs: number,
  ): Promise<number> {
    let q = this.db
      .updateTable('destination_deliveries')
      .set({ status: 'queued', next_attempt_ms: nowMs, attempts: 0, first_attempt_ms: null })
      .where('workspace_id', '=', workspaceId)
      .where('destination_id', '=', destinationId)
      .where('status', '=', 'failed');
    if (ids !== undefined) q = q.where('id', 'in', ids.length > 0 ? [...ids] : [-1]);
    return Number((await q.executeTakeFirst()).numUpdatedRows);
  }

  async recipientsOf(workspaceId: string, profileIds: readonly string[]): Promise<string[]> {
    const out = new Set<string>();
    for (const part of chunks([...profileIds], IN_CHUNK)) {
      const rows = await this.db
        .selectFrom('destination_deliveries')
        .select('destination_id')
        .distinct()
        .where('workspace_id', '=', workspaceId)
        .where('kind', '=', 'event')
        .where('profile_id', 'in', part)
        // Whatever the answer (a refusal, an error, a timeout, none at all), an attempted
        // request carried the events: the receiver may hold them. A claim sets the attempt time
        // (kept by an operator's retry); a delivery dropped at its first claim (consent withdrawn,
        // event erased) was never sent.
        .where((eb) =>
          eb.or([
            eb('status', '=', 'delivered'),
            eb.and([
              eb('last_attempt_ms', 'is not', null),
              eb.or([eb('status', '!=', 'dropped'), eb('attempts', '>', 1)]),
            ]),
          ]),
        )
        .execute();
      for (const row of rows) out.add(row.destination_id);
    }
    return [...out].sort();
  }
}
