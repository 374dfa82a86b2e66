import { sql, type Kysely } from 'kysely';
import type { StoredEvent } from '../../ingestion/message-types.ts';
import type {
  EraseCounts,
  EraseInput,
  Subject,
  SubjectData,
  SubjectQuery,
  SubjectRepository,
} from '../../privacy/privacy.port.ts';
import type { JsonObject, JsonValue } from '../../shared/json.ts';
import type { Database } from '../database-schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import type { PiiSealing } from './pii-sealing.ts';
import { toStoredEvent } from './row-mappers.ts';
import { deleteAll, deleteEvents, type ErasedSubject } from './subject-erase.ts';
import { deliveriesOf } from './subject-deliveries.ts';
import {
  findSubject,
  headOf,
  IN_CHUNK,
  identifiersOf,
  inChunks,
  iso,
  keyOf,
  looseSeqs,
  othersSeqs,
  parseKey,
  timelineSeqs,
} from './subject-queries.ts';
import { chunks, LOCK_CLASS, workspaceWrite, type Db } from './workspace-write.ts';

/**
 * A person's data across the schema: finding them, reading everything for an export, and the
 * erase. The erase runs in one transaction under the profile-state lock of the workspace (the
 * profiles stage cannot interleave) and deletes rows, never flags them. On SQLite, deleted
 * content is overwritten with zeros (the store runs with `secure_delete`) and the WAL is
 * truncated afterwards, so the bytes are gone from the files too.
 */
export class KyselySubjectRepository implements SubjectRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
    private readonly sealing: PiiSealing,
  ) {}

  find(workspaceId: string, query: SubjectQuery): Promise<Subject | undefined> {
    return findSubject(this.db, workspaceId, query.identifierKeys, this.sealing);
  }

  async read(
    workspaceId: string,
    input: Omit<EraseInput, 'identifierHashes' | 'nowMs' | 'profileSettings'>,
  ): Promise<SubjectData> {
    const db = this.db;
    const sealing = this.sealing;
    const subject = (await findSubject(db, workspaceId, input.identifierKeys, sealing)) ?? {
      profileIds: [],
      mergedIds: [],
      identifiers: input.identifierKeys.map(parseKey),
    };
    const all = [...subject.profileIds, ...subject.mergedIds];
    const seqs = new Set(await timelineSeqs(db, workspaceId, all));
    const head = await headOf(db, workspaceId);
    for (const seq of await looseSeqs(
      db,
      workspaceId,
      subject.identifiers,
      input,
      { from: 0, to: head },
      sealing,
    ))
      seqs.add(seq);
    for (const seq of await othersSeqs(db, workspaceId, seqs, all)) seqs.delete(seq);
    const events: StoredEvent[] = [];
    for (const part of chunks(
      [...seqs].sort((a, b) => a - b),
      IN_CHUNK,
    )) {
      const rows = await db
        .selectFrom('events')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('seq', 'in', part)
        .orderBy('seq')
        .execute();
      events.push(...rows.map((row) => toStoredEvent(row, sealing)));
    }
    const ofProfiles = <T>(read: (part: string[]) => Promise<T[]>) =>
      inChunks(all, (part) => read(part as string[]));
    const [profiles, identifiers, traitHistory, accounts, consent, memberships, history, computed] =
      await Promise.all([
        ofProfiles((part) =>
          db
            .selectFrom('profiles')
            .selectAll()
            .where('workspace_id', '=', workspaceId)
            .where('id', 'in', part)
            .execute(),
        ),
        ofProfiles((part) =>
          db
            .selectFrom('profile_identifiers')
            .selectAll()
            .where('workspace_id', '=', workspaceId)
            .where('profile_id', 'in', part)
            .execute(),
        ),
        ofProfiles((part) =>
          db
            .selectFrom('trait_history')
            .selectAll()
            .where('workspace_id', '=', workspaceId)
            .where('profile_id', 'in', part)
            .orderBy('ts_ms')
            .execute(),
        ),
        ofProfiles((part) =>
          db
            .selectFrom('profile_groups')
            .selectAll()
            .where('workspace_id', '=', workspaceId)
            .where('profile_id', 'in', part)
            .execute(),
        ),
        ofProfiles((part) =>
          db
            .selectFrom('consent_history')
            .selectAll()
            .where('workspace_id', '=', workspaceId)
            .where('profile_id', 'in', part)
            .orderBy('ts_ms')
            .execute(),
        ),
        segmentRows(db, workspaceId, all, 'segment_memberships'),
        segmentRows(db, workspaceId, all, 'segment_membership_history'),
        ofProfiles((part) =>
          db
            .selectFrom('computed_trait_values')
            .selectAll()
            .where('workspace_id', '=', workspaceId)
            .where('profile_id', 'in', part)
            .execute(),
        ),
      ]);
    const merges = await inChunks(all, (part) =>
      db
        .selectFrom('identity_merges')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where((eb) => eb.or([eb('merged_id', 'in', part), eb('survivor_id', 'in', part)]))
        .execute(),
    );
    const decisions = await inChunks([...seqs], (part) =>
      db
        .selectFrom('identity_decisions')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('seq', 'in', part)
        .execute(),
    );
    return {
      subject,
      profiles: profiles.map((p) => {
        return {
          id: p.id,
          kind: p.kind,
          mergedInto: p.merged_into,
          traits: openValues(sealing, JSON.parse(p.traits) as JsonObject),
          traitProvenance: openEntries(sealing, JSON.parse(p.trait_meta) as JsonObject),
          eventCount: Number(p.event_count),
          firstSeenAt: iso(p.first_seen_ms),
          lastSeenAt: iso(p.last_seen_ms),
          updatedAt: iso(p.updated_ms),
        };
      }),
      identifiers: identifiers.map((i) => {
        return {
          type: i.type,
          value: sealing.isPiiIdentifier(i.type) ? sealing.openText(i.value) : i.value,
          profileId: i.profile_id,
          linkedBy:
            i.linked_seq === null
              ? null
              : {
                  seq: Number(i.linked_seq),
                  messageId: i.linked_message_id,
                  timestamp: iso(i.linked_ts_ms ?? 0),
                },
        };
      }),
      events,
      traitHistory: traitHistory.map((t) => {
        return {
          profileId: t.profile_id,
          trait: t.trait,
          value: sealing.open(JSON.parse(t.value) as JsonValue),
          sourceId: t.source_id,
          seq: Number(t.seq),
          messageId: t.message_id,
          timestamp: iso(t.ts_ms),
          recordedAt: iso(t.at_ms),
        };
      }),
      merges: merges.map((m) => ({
        survivorId: m.survivor_id,
        mergedId: m.merged_id,
        seq: Number(m.seq),
        messageId: m.message_id,
        timestamp: iso(m.ts_ms),
        at: iso(m.at_ms),
      })),
      decisions: decisions.map((d) => ({
        seq: Number(d.seq),
        kind: d.kind,
        type: d.type,
        value: sealing.isPiiIdentifier(d.type) ? sealing.openText(d.value) : d.value,
        reason: d.reason,
        limitType: d.limit_type,
        profileId: d.profile_id,
        at: iso(d.at_ms),
      })),
      accounts: accounts.map((g) => {
        return { profileId: g.profile_id, accountId: g.account_id, seq: Number(g.seq), since: iso(g.ts_ms) };
      }),
      consentHistory: consent.map((c) => {
        return {
          category: c.category,
          granted: Number(c.granted) === 1,
          source: c.source,
          timestamp: iso(c.ts_ms),
          messageId: c.message_id,
          recordedAt: iso(c.at_ms),
        };
      }),
      segments: memberships,
      segmentHistory: history,
      computed: computed.map((c) => {
        return { name: c.name, value: JSON.parse(c.value) as JsonValue, updatedAt: iso(c.updated_ms) };
      }),
      deliveries: await deliveriesOf(db, workspaceId, [...seqs], all),
    };
  }

  async erase(workspaceId: string, input: EraseInput): Promise<EraseCounts> {
    // The slow part, a scan of the workspace's log by user and anonymous id, runs before the
    // lock; only positions appended since are scanned again inside it.
    const before = await findSubject(this.db, workspaceId, input.identifierKeys, this.sealing);
    const known = identifiersOf(before, input.identifierKeys);
    const head = await headOf(this.db, workspaceId);
    const scanned = await looseSeqs(this.db, workspaceId, known, input, { from: 0, to: head }, this.sealing);
    const subjectIn = async (trx: Db): Promise<ErasedSubject> => {
      const subject = await findSubject(trx, workspaceId, input.identifierKeys, this.sealing);
      const identifiers = identifiersOf(subject, input.identifierKeys);
      const added = identifiers.filter((i) => !known.some((k) => keyOf(k) === keyOf(i)));
      const seqs = new Set(scanned);
      const upTo = await headOf(trx, workspaceId);
      for (const seq of await looseSeqs(
        trx,
        workspaceId,
        identifiers,
        input,
        { from: head, to: upTo },
        this.sealing,
      ))
        seqs.add(seq);
      for (const seq of await looseSeqs(trx, workspaceId, added, input, { from: 0, to: head }, this.sealing))
        seqs.add(seq);
      return {
        profileIds: subject ? [...subject.profileIds, ...subject.mergedIds] : [],
        identifiers,
        seqs,
        hashes: input.identifierHashes,
        profileSettings: input.profileSettings,
        nowMs: input.nowMs,
      };
    };
    const write = <T>(work: (trx: Db) => Promise<T>): Promise<T> =>
      workspaceWrite(this.db, this.dialect, LOCK_CLASS.profileState, workspaceId, work, { writesLog: true });
    // Two transactions, the events first (subject-erase.ts, deleteEvents: why).
    const events = await write(async (trx) =>
      deleteEvents(trx, workspaceId, await subjectIn(trx), this.sealing),
    );
    const counts = await write(async (trx) =>
      deleteAll(trx, workspaceId, await subjectIn(trx), this.sealing),
    );
    this.sealing.forgetOpened();
    return { ...counts, events: events + (counts['events'] ?? 0) };
  }

  async purgeFiles(): Promise<void> {
    // The WAL still holds pages as they were before the erase, and the database file pages as
    // they were before the last checkpoint: copy the WAL back and truncate it.
    if (this.dialect !== 'sqlite') return;
    // Another connection (the server's checkpoint worker, a long read, a backup) may hold the
    // WAL for a while. When even 15 s run out, the request that called this stays `running`
    // and is tried again after its lease (privacy-request.service.ts).
    const deadline = performance.now() + 15_000;
    for (let delayMs = 20; ; delayMs = Math.min(500, delayMs * 2)) {
      const { rows } = await sql<{ busy: number }>`pragma wal_checkpoint(truncate)`.execute(this.db);
      if (Number(rows[0]?.busy ?? 0) === 0) return;
      if (performance.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    throw new Error(
      'the SQLite WAL could not be truncated after an erasure (busy); it will be at the next checkpoint',
    );
  }
}

async function segmentRows(
  db: Db,
  workspaceId: string,
  profileIds: readonly string[],
  table: 'segment_memberships' | 'segment_membership_history',
): Promise<JsonObject[]> {
  const rows = await inChunks(profileIds, (part) =>
    table === 'segment_memberships'
      ? db
          .selectFrom('segment_memberships as m')
          .leftJoin('segments as s', (j) =>
            j.onRef('s.workspace_id', '=', 'm.workspace_id').onRef('s.id', '=', 'm.segment_id'),
          )
          .select([
            'm.segment_id',
            's.slug',
            'm.profile_id',
            'm.entered_ms as at_ms',
            sql<string>`'member'`.as('change'),
          ])
          .where('m.workspace_id', '=', workspaceId)
          .where('m.profile_id', 'in', part)
          .execute()
      : db
          .selectFrom('segment_membership_history as m')
          .leftJoin('segments as s', (j) =>
            j.onRef('s.workspace_id', '=', 'm.workspace_id').onRef('s.id', '=', 'm.segment_id'),
          )
          .select(['m.segment_id', 's.slug', 'm.profile_id', 'm.at_ms', 'm.change'])
          .where('m.workspace_id', '=', workspaceId)
          .where('m.profile_id', 'in', part)
          .orderBy('m.seq')
          .execute(),
  );
  return rows.map((r): JsonObject =>
    table === 'segment_memberships'
      ? { segmentId: r.segment_id, segment: r.slug, profileId: r.profile_id, since: iso(r.at_ms) }
      : {
          segmentId: r.segment_id,
          segment: r.slug,
          profileId: r.profile_id,
          change: r.change,
          at: iso(r.at_ms),
        },
  );
}

/** `{ name: value }` with sealed values opened (an export shows what the person gave). */
function openValues(sealing: PiiSealing, values: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(values))
    Object.defineProperty(out, key, {
      value: sealing.open(values[key] as JsonValue),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

/** Provenance entries (`{ name: { value, … } }`) with their sealed values opened. */
function openEntries(sealing: PiiSealing, entries: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(entries)) {
    const entry = entries[key];
    const opened =
      typeof entry === 'object' && entry !== null && !Array.isArray(entry) && Object.hasOwn(entry, 'value')
        ? { ...entry, value: sealing.open(entry['value'] as JsonValue) }
        : (entry as JsonValue);
    Object.defineProperty(out, key, { value: opened, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
