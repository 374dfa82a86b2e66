import type { Kysely } from 'kysely';
import type { JsonValue } from '../../shared/json.ts';
import type { Database } from '../database-schema.ts';
import { PAGE, resealPages, type Step } from './pii-reseal.ts';

type Again = (value: JsonValue) => JsonValue | undefined;

/** Destinations' signing secrets (a JSON text holding the sealed value). */
export function resealDestinationSecrets(
  db: Kysely<Database>,
  ws: string,
  again: Again,
  step: Step,
): Promise<void> {
  return resealPages(
    db,
    step,
    (after: { id: string } | undefined) =>
      db
        .selectFrom('destinations')
        .select(['id', 'secret'])
        .where('workspace_id', '=', ws)
        .where('id', '>', after?.id ?? '')
        .orderBy('id')
        .limit(PAGE)
        .execute(),
    (row) => {
      const next = again(JSON.parse(row.secret) as JsonValue);
      return next === undefined ? undefined : { id: row.id, old: row.secret, secret: JSON.stringify(next) };
    },
    (trx, u) =>
      trx
        .updateTable('destinations')
        .set({ secret: u.secret })
        .where('workspace_id', '=', ws)
        .where('id', '=', u.id)
        .where('secret', '=', u.old)
        .execute(),
  );
}

/** Messages of deletion calls not sent yet (the person's identifiers). */
export function resealDeletionCalls(
  db: Kysely<Database>,
  ws: string,
  again: Again,
  step: Step,
): Promise<void> {
  return resealPages(
    db,
    step,
    (after: { id: number | string } | undefined) =>
      db
        .selectFrom('destination_deliveries')
        .select(['id', 'payload'])
        .where('workspace_id', '=', ws)
        .where('id', '>', Number(after?.id ?? 0))
        .orderBy('id')
        .limit(PAGE)
        .execute(),
    (row) => {
      if (row.payload === null) return undefined;
      const next = again(JSON.parse(row.payload) as JsonValue);
      return next === undefined
        ? undefined
        : { id: Number(row.id), old: row.payload, payload: JSON.stringify(next) };
    },
    (trx, u) =>
      trx
        .updateTable('destination_deliveries')
        .set({ payload: u.payload })
        .where('id', '=', u.id)
        .where('payload', '=', u.old)
        .execute(),
  );
}
