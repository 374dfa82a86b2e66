/**
 * Brings every stored personal value under the active data key: values sealed with an older
 * key are opened and sealed again, and personal values stored plain (before encryption, or
 * before a workspace classified the trait) are sealed, identifier keys of PII types hashed.
 * What `cdp keys rotate` runs after adding a key. Rows are read in pages by primary key and each
 * page is written in its own short transaction, so the server keeps running meanwhile.
 */
import type { Kysely } from 'kysely';
import type { ResealCounts, ResealProgress } from '../../privacy/key-rotation.ts';
import type { PiiVault } from '../../privacy/pii-vault.ts';
import { isJsonObject, ownField, type JsonObject, type JsonValue } from '../../shared/json.ts';
import type { PiiPolicy } from '../../governance/pii-masking.ts';
import { openStoredMessage, sealStoredMessage } from '../../ingestion/payload-sealing.ts';
import type { Database } from '../database-schema.ts';
import type { PiiSealing } from './pii-sealing.ts';

const PAGE = 500;

const TABLES = [
  'profiles',
  'identity_components',
  'profile_identifiers',
  'identity_unlinked',
  'identity_decisions',
  'trait_history',
  'events',
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
      }
    }
  }
  return counts;
}

type Again = (name: string, value: JsonValue) => JsonValue | undefined;
type Step = (rows: number, changed: number) => Promise<void>;

async function resealProfiles(
  db: Kysely<Database>,
  ws: string,
  again: Again,
  againText: (text: string) => string | undefined,
  step: Step,
): Promise<void> {
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('profiles')
      .select(['id', 'traits', 'trait_meta', 'created_content_key'])
      .where('workspace_id', '=', ws)
      .where('id', '>', after)
      .orderBy('id')
      .limit(PAGE)
      .execute();
    const updates: { id: string; old: string; traits: string; meta: string; contentKey: string }[] = [];
    for (const row of rows) {
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
      if (changed)
        updates.push({
          id: row.id,
          old: row.traits,
          traits: JSON.stringify(traits),
          meta: JSON.stringify(meta),
          contentKey: contentKey ?? row.created_content_key,
        });
    }
    if (updates.length > 0)
      await db.transaction().execute(async (trx) => {
        for (const u of updates)
          await trx
            .updateTable('profiles')
            .set({ traits: u.traits, trait_meta: u.meta, created_content_key: u.contentKey })
            .where('workspace_id', '=', ws)
            .where('id', '=', u.id)
            // The pipeline may have written the row since it was read: then its write stands.
            .where('traits', '=', u.old)
            .execute();
      });
    await step(rows.length, updates.length);
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE) return;
    after = last.id;
  }
}

async function resealComponents(
  db: Kysely<Database>,
  ws: string,
  againText: (text: string) => string | undefined,
  step: Step,
): Promise<void> {
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('identity_components')
      .select(['id', 'last_content_key'])
      .where('workspace_id', '=', ws)
      .where('id', '>', after)
      .orderBy('id')
      .limit(PAGE)
      .execute();
    const updates = rows.flatMap((row) => {
      const next = againText(row.last_content_key);
      return next === undefined ? [] : [{ id: row.id, old: row.last_content_key, next }];
    });
    if (updates.length > 0)
      await db.transaction().execute(async (trx) => {
        for (const u of updates)
          await trx
            .updateTable('identity_components')
            .set({ last_content_key: u.next })
            .where('workspace_id', '=', ws)
            .where('id', '=', u.id)
            .where('last_content_key', '=', u.old)
            .execute();
      });
    await step(rows.length, updates.length);
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE) return;
    after = last.id;
  }
}

async function resealIdentifiers(
  db: Kysely<Database>,
  table: 'profile_identifiers' | 'identity_unlinked',
  ws: string,
  sealing: PiiSealing,
  vault: PiiVault,
  step: Step,
): Promise<void> {
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom(table)
      .select(['id_key', 'type', 'value'])
      .where('workspace_id', '=', ws)
      .where('id_key', '>', after)
      .where('type', 'in', ['email', 'phone'])
      .orderBy('id_key')
      .limit(PAGE)
      .execute();
    const updates: { from: string; old: string; key: string; value: string }[] = [];
    for (const row of rows) {
      const plain = sealing.openText(row.value);
      const key = sealing.identifierKey(row.type, plain, `${row.type}:${plain}`);
      const current = vault.opens(row.value) && !vault.sealedWithOlderKey(row.value);
      if (current && key === row.id_key) continue;
      updates.push({ from: row.id_key, old: row.value, key, value: current ? row.value : vault.seal(plain) });
    }
    if (updates.length > 0)
      await db.transaction().execute(async (trx) => {
        for (const u of updates)
          await trx
            .updateTable(table)
            .set({ id_key: u.key, value: u.value })
            .where('workspace_id', '=', ws)
            .where('id_key', '=', u.from)
            .where('value', '=', u.old)
            .execute();
      });
    await step(rows.length, updates.length);
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE) return;
    after = last.id_key;
  }
}

async function resealDecisions(
  db: Kysely<Database>,
  ws: string,
  sealing: PiiSealing,
  again: (value: JsonValue, personal: boolean) => JsonValue | undefined,
  step: Step,
): Promise<void> {
  let after = { seq: -1, position: -1 };
  for (;;) {
    const rows = await db
      .selectFrom('identity_decisions')
      .select(['seq', 'position', 'type', 'value'])
      .where('workspace_id', '=', ws)
      .where((eb) =>
        eb.or([
          eb('seq', '>', after.seq),
          eb.and([eb('seq', '=', after.seq), eb('position', '>', after.position)]),
        ]),
      )
      .orderBy('seq')
      .orderBy('position')
      .limit(PAGE)
      .execute();
    const updates: { seq: number; position: number; old: string; value: string }[] = [];
    for (const row of rows) {
      const next = again(row.value, sealing.isPiiIdentifier(row.type));
      if (typeof next === 'string')
        updates.push({ seq: Number(row.seq), position: Number(row.position), old: row.value, value: next });
    }
    if (updates.length > 0)
      await db.transaction().execute(async (trx) => {
        for (const u of updates)
          await trx
            .updateTable('identity_decisions')
            .set({ value: u.value })
            .where('workspace_id', '=', ws)
            .where('seq', '=', u.seq)
            .where('position', '=', u.position)
            .where('value', '=', u.old)
            .execute();
      });
    await step(rows.length, updates.length);
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE) return;
    after = { seq: Number(last.seq), position: Number(last.position) };
  }
}

async function resealHistory(db: Kysely<Database>, ws: string, again: Again, step: Step): Promise<void> {
  let after = { seq: -1, trait: '' };
  for (;;) {
    const rows = await db
      .selectFrom('trait_history')
      .select(['seq', 'trait', 'value'])
      .where('workspace_id', '=', ws)
      .where((eb) =>
        eb.or([
          eb('seq', '>', after.seq),
          eb.and([eb('seq', '=', after.seq), eb('trait', '>', after.trait)]),
        ]),
      )
      .orderBy('seq')
      .orderBy('trait')
      .limit(PAGE)
      .execute();
    const updates: { seq: number; trait: string; old: string; value: string }[] = [];
    for (const row of rows) {
      const next = again(row.trait, JSON.parse(row.value) as JsonValue);
      if (next !== undefined)
        updates.push({ seq: Number(row.seq), trait: row.trait, old: row.value, value: JSON.stringify(next) });
    }
    if (updates.length > 0)
      await db.transaction().execute(async (trx) => {
        for (const u of updates)
          await trx
            .updateTable('trait_history')
            .set({ value: u.value })
            .where('workspace_id', '=', ws)
            .where('seq', '=', u.seq)
            .where('trait', '=', u.trait)
            .where('value', '=', u.old)
            .execute();
      });
    await step(rows.length, updates.length);
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE) return;
    after = { seq: Number(last.seq), trait: last.trait };
  }
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

async function resealEvents(
  db: Kysely<Database>,
  ws: string,
  reseal: (message: JsonObject) => JsonObject | undefined,
  step: Step,
): Promise<void> {
  let after = 0;
  for (;;) {
    const rows = await db
      .selectFrom('events')
      .select(['seq', 'payload'])
      .where('workspace_id', '=', ws)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(PAGE)
      .execute();
    const updates: { seq: number; old: string; payload: string }[] = [];
    for (const row of rows) {
      const next = reseal(JSON.parse(row.payload) as JsonObject);
      if (next !== undefined)
        updates.push({ seq: Number(row.seq), old: row.payload, payload: JSON.stringify(next) });
    }
    if (updates.length > 0)
      await db.transaction().execute(async (trx) => {
        for (const u of updates)
          await trx
            .updateTable('events')
            .set({ payload: u.payload })
            .where('seq', '=', u.seq)
            .where('payload', '=', u.old)
            .execute();
      });
    await step(rows.length, updates.length);
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE) return;
    after = Number(last.seq);
  }
}

function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
