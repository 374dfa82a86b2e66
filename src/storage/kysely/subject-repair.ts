import type { ProfileSettings } from '../../profiles/profile-settings.ts';
import { applyObservation, emptyTraits } from '../../profiles/trait-values.ts';
import type { JsonValue } from '../../shared/json.ts';
import { IN_CHUNK } from './subject-queries.ts';
import { traitsJson } from './profile-rows.ts';
import { chunks, type Db } from './workspace-write.ts';

/** Which other profiles the events about to be erased touched (an account, a kiosk's profile). */
export async function touchedProfiles(
  trx: Db,
  ws: string,
  seqs: readonly number[],
  erased: ReadonlySet<string>,
): Promise<{ ids: Set<string>; groupEventsPerAccount: Map<string, number> }> {
  const ids = new Set<string>();
  const groupEventsPerAccount = new Map<string, number>();
  for (const part of chunks(seqs, IN_CHUNK)) {
    for (const table of ['profile_events', 'trait_history'] as const) {
      const rows = await trx
        .selectFrom(table)
        .select('profile_id')
        .distinct()
        .where('workspace_id', '=', ws)
        .where('seq', 'in', part)
        .execute();
      for (const row of rows) if (!erased.has(row.profile_id)) ids.add(row.profile_id);
    }
    const groups = await trx
      .selectFrom('profile_groups')
      .select(['account_id', 'seq'])
      .where('workspace_id', '=', ws)
      .where('seq', 'in', part)
      .execute();
    const perAccount = new Map<string, Set<number>>();
    for (const row of groups) {
      const set = perAccount.get(row.account_id) ?? new Set<number>();
      set.add(Number(row.seq));
      perAccount.set(row.account_id, set);
    }
    for (const [account, set] of perAccount) {
      if (erased.has(account)) continue;
      ids.add(account);
      groupEventsPerAccount.set(account, (groupEventsPerAccount.get(account) ?? 0) + set.size);
    }
    const created = await trx
      .selectFrom('profiles')
      .select('id')
      .where('workspace_id', '=', ws)
      .where('created_seq', 'in', part)
      .execute();
    for (const row of created) if (!erased.has(row.id)) ids.add(row.id);
  }
  return { ids, groupEventsPerAccount };
}

/**
 * Recomputes what other profiles derived from erased events: traits (from the trait history
 * that remains, with the same winner rule), counters, first and last seen, and the event that
 * created them. An account no event refers to any more is deleted. Runs after the erased
 * rows are gone, in the erase's transaction.
 */
export async function repairProfiles(
  trx: Db,
  ws: string,
  touched: { ids: ReadonlySet<string>; groupEventsPerAccount: ReadonlyMap<string, number> },
  settings: ProfileSettings,
  nowMs: number,
): Promise<number> {
  let repaired = 0;
  for (const id of touched.ids) {
    const profile = await trx
      .selectFrom('profiles')
      .selectAll()
      .where('workspace_id', '=', ws)
      .where('id', '=', id)
      .executeTakeFirst();
    if (profile === undefined) continue;
    const history = await trx
      .selectFrom('trait_history')
      .selectAll()
      .where('workspace_id', '=', ws)
      .where('profile_id', '=', id)
      .execute();
    const traits = emptyTraits();
    for (const h of history)
      applyObservation(settings, traits, {
        trait: h.trait,
        value: JSON.parse(h.value) as JsonValue,
        sourceId: h.source_id,
        seq: Number(h.seq),
        messageId: h.message_id,
        tsMs: Number(h.ts_ms),
      });
    const refs =
      profile.kind === 'account'
        ? await accountRefs(trx, ws, id, history)
        : await trx
            .selectFrom('profile_events as p')
            .innerJoin('events as e', 'e.seq', 'p.seq')
            .select(['p.seq', 'e.message_id', 'p.ts_ms'])
            .where('p.workspace_id', '=', ws)
            .where('p.profile_id', '=', id)
            .execute();
    const ordered = refs
      .map((r) => ({ seq: Number(r.seq), messageId: r.message_id, tsMs: Number(r.ts_ms) }))
      .sort((a, b) => a.tsMs - b.tsMs || (a.messageId < b.messageId ? -1 : 1));
    const first = ordered[0];
    const last = ordered.at(-1);
    if (first === undefined || last === undefined) {
      await trx.deleteFrom('profiles').where('workspace_id', '=', ws).where('id', '=', id).execute();
      repaired++;
      continue;
    }
    const createdGone = !ordered.some((r) => r.seq === Number(profile.created_seq));
    const { traits: traitsText, meta: metaJson } = traitsJson(traits);
    await trx
      .updateTable('profiles')
      .set({
        traits: traitsText,
        trait_meta: metaJson,
        event_count:
          profile.kind === 'account'
            ? Math.max(0, Number(profile.event_count) - (touched.groupEventsPerAccount.get(id) ?? 0))
            : ordered.length,
        first_seen_ms: first.tsMs,
        last_seen_ms: last.tsMs,
        updated_ms: nowMs,
        ...(createdGone
          ? {
              created_seq: first.seq,
              created_ts_ms: first.tsMs,
              created_message_id: first.messageId,
              created_content_key: '',
            }
          : {}),
      })
      .where('workspace_id', '=', ws)
      .where('id', '=', id)
      .execute();
    repaired++;
  }
  return repaired;
}

/** The group events an account still rests on: its trait history and its members' group calls. */
async function accountRefs(
  trx: Db,
  ws: string,
  accountId: string,
  history: readonly { seq: number | string; message_id: string; ts_ms: number | string }[],
): Promise<{ seq: number | string; message_id: string; ts_ms: number | string }[]> {
  const members = await trx
    .selectFrom('profile_groups as g')
    .innerJoin('events as e', 'e.seq', 'g.seq')
    .select(['g.seq', 'e.message_id', 'g.ts_ms'])
    .where('g.workspace_id', '=', ws)
    .where('g.account_id', '=', accountId)
    .execute();
  return [...history, ...members];
}
