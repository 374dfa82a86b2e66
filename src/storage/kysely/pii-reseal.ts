/**
 * Brings every stored personal value under the active data key: values sealed with an older
 * key are opened and sealed again, and personal values stored plain (before encryption, or
 * before a workspace classified the trait) are sealed, identifier keys of PII types hashed.
 * What `cdp keys rotate` runs after adding a key. Rows are read in pages by primary key and each
 * page is written in its own short transaction, so the server keeps running meanwhile.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { ResealCounts, ResealProgress } from '../../privacy/key-rotation.ts';
import type { PiiVault } from '../../privacy/pii-vault.ts';
import { isJsonObject, ownField, type JsonObject, type JsonValue } from '../../shared/json.ts';
import type { PiiPolicy } from '../../governance/pii-masking.ts';
import { openStoredMessage, sealStoredMessage } from '../../ingestion/payload-sealing.ts';
import type { Database } from '../database-schema.ts';
import type { PiiSealing } from './pii-sealing.ts';
import { resealDeletionCalls, resealDestinationSecrets } from './destination-reseal.ts';

export const PAGE = 500;

const TABLES = [
  'profiles',
  'identity_components',
  'profile_identifiers',
  'identity_unlinked',
  'identity_decisions',
  'trait_history',
  'events',
  'destinations',
  'destination_deliveries',
  'privacy_exports',
] as const;

export async function resealAll(
  db: Kysely<Database>,
  sealing: PiiSealing,
  onProgress: (progress: ResealProgress) => void = () => undefined,
): Promise<ResealCounts> {
  const vault = sealing.vault;
  if (vault === undefined) throw new Error('no vault installed: the store cannot seal');
  const counts: Record<string, { rows: number; changed: number }> = {};
  const workspaces = (await db.selectFrom('workspaces').select('id').orderBy('id').execute()).map(
    (w) => w.id,
  );
  // Progress counts rows over all tables, so one bar goes from 0 to the end.
  let total = 0;
  for (const table of TABLES)
    total += Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  let done = 0;
  onProgress({ table: TABLES[0], done, total });
  for (const table of TABLES) {
    const tally = { rows: 0, changed: 0 };
    counts[table] = tally;
    for (const ws of workspaces) {
      const policy = await sealing.policy(ws);
      const again = (value: JsonValue, personal: boolean): JsonValue | undefined => {
        const opened = vault.open(value);
        const sealedNow = vault.opens(value);
        if (!personal && !sealedNow) return undefined;
        if (sealedNow && !vault.sealedWithOlderKey(value)) return undefined;
        return vault.seal(opened);
      };
      const againText = (text: string): string | undefined => {
        if (text === '') return undefined;
        const next = again(text, true);
        return typeof next === 'string' ? next : undefined;
      };
      const step = async (rows: number, changed: number): Promise<void> => {
        tally.rows += rows;
        tally.changed += changed;
        done += rows;
        onProgress({ table, done, total: Math.max(total, done) });
        await Promise.resolve();
      };
      switch (table) {
        case 'profiles':
          await resealProfiles(db, ws, (name, v) => again(v, policy.isPiiTrait(name)), againText, step);
          break;
        case 'identity_components':
          await resealComponents(db, ws, againText, step);
          break;
        case 'profile_identifiers':
        case 'identity_unlinked':
          await resealIdentifiers(db, table, ws, sealing, vault, step);
          break;
        case 'identity_decisions':
          await resealDecisions(db, ws, sealing, (v, personal) => again(v, personal), step);
          break;
        case 'trait_history':
          await resealHistory(db, ws, (name, v) => again(v, policy.isPiiTrait(name)), step);
          break;
        case 'events':
          await resealEvents(db, ws, (message) => resealMessage(message, vault, policy), step);
          break;
        case 'destinations':
          await resealDestinationSecrets(db, ws, (v) => again(v, true), step);
          break;
        case 'destination_deliveries':
          await resealDeletionCalls(db, ws, (v) => again(v, true), step);
          break;
        case 'privacy_exports':
          await resealExports(db, ws, againText, step);
          break;
      }
    }
  }
  // The count at the start may differ from the rows gone through (rows of removed workspaces,
  // rows written meanwhile): the last report is what was done, so the bar ends full.
  onProgress({ table: TABLES[TABLES.length - 1] ?? TABLES[0], done, total: done });
  return counts;
}

type Again = (name: string, value: JsonValue) => JsonValue | undefined;
export type Step = (rows: number, changed: number) => Promise<void>;

/**
 * Reads rows page by page (keyset: `read` gets the last row of the previous page), plans an
 * update per row that needs one, and writes each page's updates in one short transaction.
 * Every write also matches the value it replaces: a row the pipeline wrote since it was read
 * keeps that write.
 */
export async function resealPages<Row, Update>(
  db: Kysely<Database>,
  step: Step,
  read: (after: Row | undefined) => Promise<Row[]>,
  plan: (row: Row) => Update | undefined,
  write: (trx: Transaction<Database>, update: Update) => Promise<unknown>,
  /** Rows `read` asks for at most (a shorter page is the last one). */
  pageSize = PAGE,
): Promise<void> {
  let last: Row | undefined;
  for (;;) {
    const rows = await read(last);
    const updates: Update[] = [];
    for (const row of rows) {
      const update = plan(row);
      if (update !== undefined) updates.push(update);
    }
    if (updates.length > 0)
      await db.transaction().execute(async (trx) => {
        for (const update of updates) await write(trx, update);
      });
    await step(rows.length, updates.length);
    last = rows.at(-1);
    if (last === undefined || rows.length < pageSize) return;
  }
}

function resealProfiles(
  db: Kysely<Database>,
  ws: string,
  again: Again,
  againText: (text: string) => string | undefined,
  step: Step,
): Promise<void> {
  return resealPages(
    db,
    step,
    (after: { id: string } | undefined) =>
      db
        .selectFrom('profiles')
        .select(['id', 'traits', 'trait_meta', 'created_content_key'])
        .where('workspace_id', '=', ws)
        .where('id', '>', after?.id ?? '')
        .orderBy('id')
        .limit(PAGE)
        .execute(),
    (row) => {
      const traits = JSON.parse(row.traits) as Record<string, JsonValue>;
      const meta = JSON.parse(row.trait_meta) as Record<string, { value: JsonValue }>;
      const contentKey = againText(row.created_content_key);
      let changed = contentKey !== undefined;
      for (const name of Object.keys(traits)) {
        const next = again(name, traits[name] as JsonValue);
        if (next === undefined) continue;
        changed = true;
        define(traits, name, next);
        const entry = Object.hasOwn(meta, name) ? meta[name] : undefined;
        if (entry !== undefined) define(meta, name, { ...entry, value: next });
      }
      if (!changed) return undefined;
      return {
        id: row.id,
        old: row.traits,
        traits: JSON.stringify(traits),
        meta: JSON.stringify(meta),
        contentKey: contentKey ?? row.created_content_key,
      };
    },
    (trx, u) =>
      trx
        .updateTable('profiles')
        .set({ traits: u.traits, trait_meta: u.meta, created_content_key: u.contentKey })
        .where('workspace_id', '=', ws)
        .where('id', '=', u.id)
        .where('traits', '=', u.old)
        .execute(),
  );
}

function resealComponents(
  db: Kysely<Database>,
  ws: string,
  againText: (text: string) => string | undefined,
  step: Step,
): Promise<void> {
  return resealPages(
    db,
    step,
    (after: { id: string } | undefined) =>
      db
        .selectFrom('identity_components')
        .select(['id', 'last_content_key'])
        .where('workspace_id', '=', ws)
        .where('id', '>', after?.id ?? '')
        .orderBy('id')
        .limit(PAGE)
        .execute(),
    (row) => {
      const next = againText(row.last_content_key);
      return next === undefined ? undefined : { id: row.id, old: row.last_content_key, next };
    },
    (trx, u) =>
      trx
        .updateTable('identity_components')
        .set({ last_content_key: u.next })
        .where('workspace_id', '=', ws)
        .where('id', '=', u.id)
        .where('last_content_key', '=', u.old)
        .execute(),
  );
}

/** PII identifiers: values sealed under the active key, keys hashed (`type:#…`). */
function resealIdentifiers(
  db: Kysely<Database>,
  table: 'profile_identifiers' | 'identity_unlinked',
  ws: string,
  sealing: PiiSealing,
  vault: PiiVault,
  step: Step,
): Promise<void> {
  return resealPages(
    db,
    step,
    (after: { id_key: string } | undefined) =>
      db
        .selectFrom(table)
        .select(['id_key', 'type', 'value'])
        .where('workspace_id', '=', ws)
        .where('id_key', '>', after?.id_key ?? '')
        .where('type', 'in', ['email', 'phone'])
        .orderBy('id_key')
        .limit(PAGE)
        .execute(),
    (row) => {
      const plain = sealing.openText(row.value);
      const key = sealing.identifierKey(row.type, plain, `${row.type}:${plain}`);
      const current = vault.opens(row.value) && !vault.sealedWithOlderKey(row.value);
      if (current && key === row.id_key) return undefined;
      return { from: row.id_key, old: row.value, key, value: current ? row.value : vault.seal(plain) };
    },
    (trx, u) =>
      trx
        .updateTable(table)
        .set({ id_key: u.key, value: u.value })
        .where('workspace_id', '=', ws)
        .where('id_key', '=', u.from)
        .where('value', '=', u.old)
        .execute(),
  );
}

function resealDecisions(
  db: Kysely<Database>,
  ws: string,
  sealing: PiiSealing,
  again: (value: JsonValue, personal: boolean) => JsonValue | undefined,
  step: Step,
): Promise<void> {
  return resealPages(
    db,
    step,
    (after: { seq: number | string; position: number | string } | undefined) =>
      db
        .selectFrom('identity_decisions')
        .select(['seq', 'position', 'type', 'value'])
        .where('workspace_id', '=', ws)
        .where(afterPair('seq', 'position', after && [Number(after.seq), Number(after.position)]))
        .orderBy('seq')
        .orderBy('position')
        .limit(PAGE)
        .execute(),
    (row) => {
      const next = again(row.value, sealing.isPiiIdentifier(row.type));
      return typeof next === 'string'
        ? { seq: Number(row.seq), position: Number(row.position), old: row.value, value: next }
        : undefined;
    },
    (trx, u) =>
      trx
        .updateTable('identity_decisions')
        .set({ value: u.value })
        .where('workspace_id', '=', ws)
        .where('seq', '=', u.seq)
        .where('position', '=', u.position)
        .where('value', '=', u.old)
        .execute(),
  );
}

function resealHistory(db: Kysely<Database>, ws: string, again: Again, step: Step): Promise<void> {
  return resealPages(
    db,
    step,
    (after: { seq: number | string; trait: string } | undefined) =>
      db
        .selectFrom('trait_history')
        .select(['seq', 'trait', 'value'])
        .where('workspace_id', '=', ws)
        .where(afterPair('seq', 'trait', after && [Number(after.seq), after.trait]))
        .orderBy('seq')
        .orderBy('trait')
        .limit(PAGE)
        .execute(),
    (row) => {
      const next = again(row.trait, JSON.parse(row.value) as JsonValue);
      return next === undefined
        ? undefined
        : { seq: Number(row.seq), trait: row.trait, old: row.value, value: JSON.stringify(next) };
    },
    (trx, u) =>
      trx
        .updateTable('trait_history')
        .set({ value: u.value })
        .where('workspace_id', '=', ws)
        .where('seq', '=', u.seq)
        .where('trait', '=', u.trait)
        .where('value', '=', u.old)
        .execute(),
  );
}

function resealEvents(
  db: Kysely<Database>,
  ws: string,
  reseal: (message: JsonObject) => JsonObject | undefined,
  step: Step,
): Promise<void> {
  return resealPages(
    db,
    step,
    (after: { seq: number | string } | undefined) =>
      db
        .selectFrom('events')
        .select(['seq', 'payload'])
        .where('workspace_id', '=', ws)
        .where('seq', '>', Number(after?.seq ?? 0))
        .orderBy('seq')
        .limit(PAGE)
        .execute(),
    (row) => {
      const next = reseal(JSON.parse(row.payload) as JsonObject);
      return next === undefined
        ? undefined
        : { seq: Number(row.seq), old: row.payload, payload: JSON.stringify(next) };
    },
    (trx, u) =>
      trx
        .updateTable('events')
        .set({ payload: u.payload })
        .where('seq', '=', u.seq)
        .where('payload', '=', u.old)
        .execute(),
  );
}

/** Export documents read per page: each can be megabytes. */
const DOCUMENT_PAGE = 10;

/** Export documents: each is one sealed value (documents stored plain before are sealed). */
function resealExports(
  db: Kysely<Database>,
  ws: string,
  againText: (text: string) => string | undefined,
  step: Step,
): Promise<void> {
  return resealPages(
    db,
    step,
    (after: { request_id: string } | undefined) =>
      db
        .selectFrom('privacy_exports')
        .select(['request_id', 'document'])
        .where('workspace_id', '=', ws)
        .where('request_id', '>', after?.request_id ?? '')
        .orderBy('request_id')
        .limit(DOCUMENT_PAGE)
        .execute(),
    (row) => {
      const next = againText(row.document);
      return next === undefined ? undefined : { id: row.request_id, old: row.document, document: next };
    },
    (trx, u) =>
      trx
        .updateTable('privacy_exports')
        .set({ document: u.document })
        .where('workspace_id', '=', ws)
        .where('request_id', '=', u.id)
        .where('document', '=', u.old)
        .execute(),
    DOCUMENT_PAGE,
  );
}

/** The stored message re-sealed, or undefined when it is already sealed under the active key. */
function resealMessage(message: JsonObject, vault: PiiVault, policy: PiiPolicy): JsonObject | undefined {
  const current = (value: JsonValue): boolean => vault.opens(value) && !vault.sealedWithOlderKey(value);
  const traitsCurrent = (traits: JsonValue | undefined): boolean =>
    !isJsonObject(traits) ||
    Object.keys(traits).every((key) => !policy.isPiiTrait(key) || current(traits[key] as JsonValue));
  const context = ownField(message, 'context');
  const ip = isJsonObject(context) ? ownField(context, 'ip') : undefined;
  if (
    traitsCurrent(ownField(message, 'traits')) &&
    (!isJsonObject(context) || traitsCurrent(ownField(context, 'traits'))) &&
    (typeof ip !== 'string' || current(ip))
  )
    return undefined;
  const opened = openStoredMessage(message, (value) => vault.open(value));
  const { id, key } = vault.activeKey();
  sealStoredMessage(opened, { keyId: id, key, piiTraits: policy.extraTraits, sealedIp: null }, null);
  return opened;
}

/** `(first, second) > after` for a keyset over a two-column key. */
function afterPair(first: string, second: string, after: readonly [number, number | string] | undefined) {
  if (after === undefined) return sql<boolean>`1 = 1`;
  const [a, b] = after;
  return sql<boolean>`(${sql.ref(first)} > ${a} OR (${sql.ref(first)} = ${a} AND ${sql.ref(second)} > ${b}))`;
}

function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
