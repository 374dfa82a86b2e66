import type { StoredEvent } from '../../ingestion/message-types.ts';
import type { EraseInput, Subject } from '../../privacy/privacy.port.ts';
import type { PiiSealing } from './pii-sealing.ts';
import { storedKeyOf } from './profile-state.repository.ts';
import { toStoredEvent } from './row-mappers.ts';
import { chunks, type Db } from './workspace-write.ts';

/** Reads that find a person's rows, shared by the export and the erase. */

export const IN_CHUNK = 1_000;
/** Log positions read per statement when scanning a workspace's log (bounded statements). */
const SCAN_WINDOW = 20_000;
const READ_PAGE = 1_000;

export interface Ident {
  readonly type: string;
  readonly value: string;
}

export const keyOf = (i: Ident): string => `${i.type}:${i.value}`;

export function parseKey(key: string): Ident {
  const colon = key.indexOf(':');
  return { type: key.slice(0, colon), value: key.slice(colon + 1) };
}

export const iso = (ms: number | string): string => new Date(Number(ms)).toISOString();

export async function inChunks<T>(
  ids: readonly (string | number)[],
  read: (part: never[]) => Promise<T[]>,
): Promise<T[]> {
  const out: T[] = [];
  for (const part of chunks([...new Set(ids)], IN_CHUNK)) out.push(...(await read(part as never[])));
  return out;
}

export async function findSubject(
  db: Db,
  workspaceId: string,
  keys: readonly string[],
  sealing: PiiSealing,
): Promise<Subject | undefined> {
  if (keys.length === 0) return undefined;
  const stored = keys.map((key) => storedKeyOf(sealing, key));
  const owners = await inChunks(stored, (part) =>
    db
      .selectFrom('profile_identifiers')
      .select('profile_id')
      .where('workspace_id', '=', workspaceId)
      .where('id_key', 'in', part)
      .where('profile_id', 'is not', null)
      .execute(),
  );
  const ids = [...new Set(owners.map((o) => o.profile_id as string))];
  if (ids.length === 0) return undefined;
  const rows = await inChunks(ids, (part) =>
    db
      .selectFrom('profiles')
      .select(['id', 'merged_into'])
      .where('workspace_id', '=', workspaceId)
      .where('id', 'in', part)
      .execute(),
  );
  const live = [...new Set(rows.map((r) => r.merged_into ?? r.id))].sort();
  const merged = await inChunks(live, (part) =>
    db
      .selectFrom('profiles')
      .select('id')
      .where('workspace_id', '=', workspaceId)
      .where('merged_into', 'in', part)
      .execute(),
  );
  const identifiers = await inChunks(live, (part) =>
    db
      .selectFrom('profile_identifiers')
      .select(['type', 'value'])
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', 'in', part)
      .execute(),
  );
  return {
    profileIds: live,
    mergedIds: [...new Set(merged.map((m) => m.id))].sort(),
    identifiers: identifiers.map((i) => ({
      type: i.type,
      value: sealing.isPiiIdentifier(i.type) ? sealing.openText(i.value) : i.value,
    })),
  };
}

export function identifiersOf(subject: Subject | undefined, keys: readonly string[]): Ident[] {
  const out = new Map<string, Ident>();
  for (const key of keys) out.set(key, parseKey(key));
  for (const i of subject?.identifiers ?? []) out.set(keyOf(i), i);
  return [...out.values()];
}

export async function headOf(db: Db, workspaceId: string): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.max('seq').as('head'))
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  return Number(row?.head ?? 0);
}

export async function timelineSeqs(
  db: Db,
  workspaceId: string,
  profileIds: readonly string[],
): Promise<number[]> {
  const rows = await inChunks(profileIds, (part) =>
    db
      .selectFrom('profile_events')
      .select('seq')
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', 'in', part)
      .execute(),
  );
  return rows.map((r) => Number(r.seq));
}

/**
 * Of these log positions, the ones the timeline assigns to a profile that is not one of the
 * person's: another person's events, whatever their id columns say. A shared device's anonymous
 * id is linked to the first person who identified on it, yet the next person's events carry it
 * too; identity resolution gave those to the next person, so they are not the first person's to
 * export or erase. Events assigned to no profile (not processed yet, failed) stay the person's.
 */
export async function othersSeqs(
  db: Db,
  workspaceId: string,
  seqs: Iterable<number>,
  profileIds: readonly string[],
): Promise<Set<number>> {
  const theirs = new Set(profileIds);
  const rows = await inChunks([...seqs], (part) =>
    db
      .selectFrom('profile_events')
      .select(['seq', 'profile_id'])
      .where('workspace_id', '=', workspaceId)
      .where('seq', 'in', part)
      .execute(),
  );
  return new Set(rows.filter((r) => !theirs.has(r.profile_id)).map((r) => Number(r.seq)));
}

/**
 * The person's events the profiles stage did not link to their profile, in log positions
 * (from, to]: by the user and anonymous id columns, by identity decisions on their identifiers
 * (values that were demoted or rejected), and, for events not processed yet or failed in the
 * profiles stage, by reading the event itself. May include other people's events (see
 * `othersSeqs`), which callers leave out.
 */
export async function looseSeqs(
  db: Db,
  workspaceId: string,
  identifiers: readonly Ident[],
  input: Pick<EraseInput, 'carries' | 'pendingAfterSeq'>,
  range: { from: number; to: number },
  sealing: PiiSealing,
): Promise<Set<number>> {
  const out = new Set<number>();
  if (identifiers.length === 0 || range.to <= range.from) return out;
  const userIds = identifiers.filter((i) => i.type === 'user_id').map((i) => i.value);
  const anonymousIds = identifiers.filter((i) => i.type === 'anonymous_id').map((i) => i.value);
  if (userIds.length + anonymousIds.length > 0) {
    for (let lo = range.from; lo < range.to; lo += SCAN_WINDOW) {
      const rows = await db
        .selectFrom('events')
        .select('seq')
        .where('workspace_id', '=', workspaceId)
        .where('seq', '>', lo)
        .where('seq', '<=', Math.min(range.to, lo + SCAN_WINDOW))
        .where((eb) =>
          eb.or([
            ...(userIds.length > 0 ? [eb('user_id', 'in', userIds)] : []),
            ...(anonymousIds.length > 0 ? [eb('anonymous_id', 'in', anonymousIds)] : []),
          ]),
        )
        .execute();
      for (const row of rows) out.add(Number(row.seq));
    }
  }
  for (const row of await decisionsAbout(db, workspaceId, identifiers, sealing))
    if (row.seq > range.from && row.seq <= range.to) out.add(row.seq);
  const check = (events: readonly StoredEvent[]): void => {
    for (const event of events) if (input.carries(event)) out.add(event.seq);
  };
  for (let after = Math.max(range.from, input.pendingAfterSeq); after < range.to;) {
    const rows = await db
      .selectFrom('events')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('seq', '>', after)
      .where('seq', '<=', range.to)
      .orderBy('seq')
      .limit(READ_PAGE)
      .execute();
    const last = rows.at(-1);
    if (last === undefined) break;
    check(rows.map((row) => toStoredEvent(row, sealing)));
    after = Number(last.seq);
  }
  const failed = await db
    .selectFrom('failed_events')
    .select('seq')
    .where('workspace_id', '=', workspaceId)
    .where('seq', '>', range.from)
    .where('seq', '<=', Math.min(range.to, input.pendingAfterSeq))
    .execute();
  for (const part of chunks(
    failed.map((f) => Number(f.seq)),
    IN_CHUNK,
  )) {
    const rows = await db.selectFrom('events').selectAll().where('seq', 'in', part).execute();
    check(rows.map((row) => toStoredEvent(row, sealing)));
  }
  return out;
}

/**
 * The identity decisions (demoted or rejected values) about these identifiers. Values of PII
 * types are sealed, so those are compared here after opening, not in SQL.
 */
export async function decisionsAbout(
  db: Db,
  workspaceId: string,
  identifiers: readonly Ident[],
  sealing: PiiSealing,
): Promise<{ seq: number; position: number }[]> {
  const out: { seq: number; position: number }[] = [];
  const plain = identifiers.filter((i) => !sealing.isPiiIdentifier(i.type));
  for (const group of chunks(plain, 200)) {
    const rows = await db
      .selectFrom('identity_decisions')
      .select(['seq', 'position'])
      .where('workspace_id', '=', workspaceId)
      .where((eb) => eb.or(group.map((i) => eb.and([eb('type', '=', i.type), eb('value', '=', i.value)]))))
      .execute();
    for (const row of rows) out.push({ seq: Number(row.seq), position: Number(row.position) });
  }
  const sealed = new Set(identifiers.filter((i) => sealing.isPiiIdentifier(i.type)).map(keyOf));
  if (sealed.size > 0) {
    const types = [...new Set([...sealed].map((key) => parseKey(key).type))];
    const rows = await db
      .selectFrom('identity_decisions')
      .select(['seq', 'position', 'type', 'value'])
      .where('workspace_id', '=', workspaceId)
      .where('type', 'in', types)
      .execute();
    for (const row of rows)
      if (sealed.has(`${row.type}:${sealing.openText(row.value)}`))
        out.push({ seq: Number(row.seq), position: Number(row.position) });
  }
  return out;
}
