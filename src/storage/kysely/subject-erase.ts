import type { EraseCounts } from '../../privacy/privacy.port.ts';
import type { ProfileSettings } from '../../profiles/profile-settings.ts';
import { repairProfiles, touchedProfiles } from './subject-repair.ts';
import type { PiiSealing } from './pii-sealing.ts';
import { storedKeyOf } from './profile-state.repository.ts';
import { deleteDeliveries } from './subject-deliveries.ts';
import { decisionsAbout, IN_CHUNK, keyOf, othersSeqs, timelineSeqs, type Ident } from './subject-queries.ts';
import { chunks, type Db } from './workspace-write.ts';

/** Who the person is, as the erase reads it from the store. */
export interface ErasedSubject {
  profileIds: string[];
  identifiers: Ident[];
  seqs: Set<number>;
  hashes: readonly string[];
  profileSettings: ProfileSettings;
  nowMs: number;
}

/**
 * The person's log positions. Read in the transaction: the timeline says whose each event is
 * (another person's events that carry one of the person's identifiers stay, with what they gave
 * that person).
 */
async function personSeqs(
  trx: Db,
  ws: string,
  what: ErasedSubject,
  sealing: PiiSealing,
): Promise<{ seqs: number[]; about: Awaited<ReturnType<typeof decisionsAbout>>; others: Set<number> }> {
  const found = new Set([...what.seqs, ...(await timelineSeqs(trx, ws, what.profileIds))]);
  const about = await decisionsAbout(trx, ws, what.identifiers, sealing);
  const others = await othersSeqs(trx, ws, [...found, ...about.map((d) => d.seq)], what.profileIds);
  const seqs = [...found].filter((seq) => !others.has(seq)).sort((a, b) => a - b);
  return { seqs, about, others };
}

/**
 * Deletes the person's events from the log (and its counters), and nothing else: the first of
 * an erasure's two transactions. On SQLite the log is a file of its own, and a transaction
 * writing both files commits them one after the other (the main file first): in one
 * transaction, a crash between the two commits would leave the person's events with nothing
 * left to find them by (their profile and identifiers gone). Events first, the rest in a second
 * transaction: a crash between them leaves the profile, and the request runs again.
 */
export async function deleteEvents(
  trx: Db,
  ws: string,
  what: ErasedSubject,
  sealing: PiiSealing,
): Promise<number> {
  const { seqs } = await personSeqs(trx, ws, what, sealing);
  let deleted = 0;
  for (const part of chunks(seqs, IN_CHUNK))
    deleted += Number(
      (
        await trx
          .deleteFrom('events')
          .where('workspace_id', '=', ws)
          .where('seq', 'in', part)
          .executeTakeFirst()
      ).numDeletedRows ?? 0,
    );
  if (deleted > 0)
    await trx
      .updateTable('workspace_counters')
      .set((eb) => ({ events: eb('events', '-', deleted) }))
      .where('workspace_id', '=', ws)
      .execute();
  return deleted;
}

/** Deletes every row about the person, table by table; returns the count per table. */
export async function deleteAll(
  trx: Db,
  ws: string,
  what: ErasedSubject,
  sealing: PiiSealing,
): Promise<EraseCounts> {
  const counts: Record<string, number> = {};
  const add = (table: string, n: bigint | number | undefined): void => {
    counts[table] = (counts[table] ?? 0) + Number(n ?? 0);
  };
  const pids = what.profileIds;
  const keys = what.identifiers.map((i) => storedKeyOf(sealing, keyOf(i)));
  const { seqs, about, others } = await personSeqs(trx, ws, what, sealing);
  const touched = await touchedProfiles(trx, ws, seqs, new Set(pids));

  for (const part of chunks(seqs, IN_CHUNK)) {
    // Events appended since the first transaction (deleteEvents) went.
    add(
      'events',
      (
        await trx
          .deleteFrom('events')
          .where('workspace_id', '=', ws)
          .where('seq', 'in', part)
          .executeTakeFirst()
      ).numDeletedRows,
    );
    add(
      'failed_events',
      (
        await trx
          .deleteFrom('failed_events')
          .where('workspace_id', '=', ws)
          .where('seq', 'in', part)
          .executeTakeFirst()
      ).numDeletedRows,
    );
    add(
      'consumer_redeliveries',
      (await trx.deleteFrom('consumer_redeliveries').where('seq', 'in', part).executeTakeFirst())
        .numDeletedRows,
    );
    for (const table of [
      'profile_events',
      'trait_history',
      'identity_decisions',
      'identity_merges',
      'profile_groups',
    ] as const)
      add(
        table,
        (
          await trx
            .deleteFrom(table)
            .where('workspace_id', '=', ws)
            .where('seq', 'in', part)
            .executeTakeFirst()
        ).numDeletedRows,
      );
    add(
      'consent_history',
      (
        await trx
          .deleteFrom('consent_history')
          .where('workspace_id', '=', ws)
          .where('event_seq', 'in', part)
          .executeTakeFirst()
      ).numDeletedRows,
    );
  }
  if ((counts['events'] ?? 0) > 0)
    await trx
      .updateTable('workspace_counters')
      .set((eb) => ({ events: eb('events', '-', counts['events'] ?? 0) }))
      .where('workspace_id', '=', ws)
      .execute();

  const components = new Set<string>();
  for (const part of chunks(keys, IN_CHUNK)) {
    const rows = await trx
      .selectFrom('profile_identifiers')
      .select('component_id')
      .where('workspace_id', '=', ws)
      .where('id_key', 'in', part)
      .execute();
    for (const row of rows) components.add(row.component_id);
    add(
      'profile_identifiers',
      (
        await trx
          .deleteFrom('profile_identifiers')
          .where('workspace_id', '=', ws)
          .where('id_key', 'in', part)
          .executeTakeFirst()
      ).numDeletedRows,
    );
    add(
      'identity_unlinked',
      (
        await trx
          .deleteFrom('identity_unlinked')
          .where('workspace_id', '=', ws)
          .where('id_key', 'in', part)
          .executeTakeFirst()
      ).numDeletedRows,
    );
  }
  // A decision about one of their identifiers recorded on another person's event (a shared
  // device's anonymous id, demoted there) is part of that person's record and stays with it.
  for (const group of chunks(
    about.filter((d) => !others.has(d.seq)),
    200,
  ))
    add(
      'identity_decisions',
      (
        await trx
          .deleteFrom('identity_decisions')
          .where('workspace_id', '=', ws)
          .where((eb) =>
            eb.or(group.map((d) => eb.and([eb('seq', '=', d.seq), eb('position', '=', d.position)]))),
          )
          .executeTakeFirst()
      ).numDeletedRows,
    );

  for (const part of chunks(pids, IN_CHUNK)) {
    const rows = await trx
      .selectFrom('profile_identifiers')
      .select('component_id')
      .where('workspace_id', '=', ws)
      .where('profile_id', 'in', part)
      .execute();
    for (const row of rows) components.add(row.component_id);
    add(
      'profile_identifiers',
      (
        await trx
          .deleteFrom('profile_identifiers')
          .where('workspace_id', '=', ws)
          .where('profile_id', 'in', part)
          .executeTakeFirst()
      ).numDeletedRows,
    );
    for (const table of [
      'profile_events',
      'trait_history',
      'identity_decisions',
      'identity_unlinked',
      'consent_history',
      'profile_consent',
      'segment_memberships',
      'segment_membership_history',
      'computed_trait_values',
      'audience_event_outbox',
    ] as const)
      add(
        table,
        (
          await trx
            .deleteFrom(table)
            .where('workspace_id', '=', ws)
            .where('profile_id', 'in', part)
            .executeTakeFirst()
        ).numDeletedRows,
      );
    add(
      'identity_merges',
      (
        await trx
          .deleteFrom('identity_merges')
          .where('workspace_id', '=', ws)
          .where((eb) => eb.or([eb('merged_id', 'in', part), eb('survivor_id', 'in', part)]))
          .executeTakeFirst()
      ).numDeletedRows,
    );
    add(
      'profile_groups',
      (
        await trx
          .deleteFrom('profile_groups')
          .where('workspace_id', '=', ws)
          .where((eb) => eb.or([eb('profile_id', 'in', part), eb('account_id', 'in', part)]))
          .executeTakeFirst()
      ).numDeletedRows,
    );
    add(
      'profiles',
      (
        await trx
          .deleteFrom('profiles')
          .where('workspace_id', '=', ws)
          .where((eb) => eb.or([eb('id', 'in', part), eb('merged_into', 'in', part)]))
          .executeTakeFirst()
      ).numDeletedRows,
    );
  }
  add('destination_deliveries', await deleteDeliveries(trx, ws, seqs, pids));
  // Components left without any identifier go too.
  for (const part of chunks([...components], IN_CHUNK)) {
    const used = await trx
      .selectFrom('profile_identifiers')
      .select('component_id')
      .distinct()
      .where('workspace_id', '=', ws)
      .where('component_id', 'in', part)
      .execute();
    const empty = part.filter((id) => !used.some((u) => u.component_id === id));
    if (empty.length > 0)
      add(
        'identity_components',
        (
          await trx
            .deleteFrom('identity_components')
            .where('workspace_id', '=', ws)
            .where('id', 'in', empty)
            .executeTakeFirst()
        ).numDeletedRows,
      );
  }
  // Past requests about the person: their export documents go, their identifiers are cleared.
  for (const part of chunks([...what.hashes], IN_CHUNK)) {
    const requests = await trx
      .selectFrom('privacy_requests')
      .select('id')
      .where('workspace_id', '=', ws)
      .where('identifier_hash', 'in', part)
      .execute();
    for (const ids of chunks(
      requests.map((r) => r.id),
      IN_CHUNK,
    ))
      add(
        'privacy_exports',
        (
          await trx
            .deleteFrom('privacy_exports')
            .where('workspace_id', '=', ws)
            .where('request_id', 'in', ids)
            .executeTakeFirst()
        ).numDeletedRows,
      );
    await trx
      .updateTable('privacy_requests')
      .set({ identifier_value: null })
      .where('workspace_id', '=', ws)
      .where('identifier_hash', 'in', part)
      .where('status', 'in', ['completed', 'failed'])
      .execute();
  }
  // What erased events contributed to other profiles (a shared account's traits) is recomputed.
  add('profiles_recomputed', await repairProfiles(trx, ws, touched, what.profileSettings, what.nowMs));
  for (const key of Object.keys(counts)) if (counts[key] === 0) delete counts[key];
  return counts;
}
