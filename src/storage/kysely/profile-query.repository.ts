import { sql, type ExpressionBuilder, type Kysely, type Selectable } from 'kysely';
import type {
  AccountLink,
  DecisionView,
  MergeRecordView,
  ProfileListQuery,
  ProfileQueryRepository,
  TimelineQuery,
  TraitHistoryQuery,
  TraitObservationView,
  UnlinkedIdentifierView,
} from '../../profiles/profile-query.port.ts';
import type { ProfileKind, StoredIdentifier, StoredProfile } from '../../profiles/profile-state.port.ts';
import type { StoredEvent } from '../../ingestion/message-types.ts';
import type { JsonValue } from '../../shared/json.ts';
import type { Database } from '../database-schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import { CompiledOnce } from './compiled-once.ts';
import type { ReadRouting } from './read-routing.ts';
import { inIdList } from './id-list.ts';
import type { PiiSealing } from './pii-sealing.ts';
import { toIdentifier, toProfile } from './profile-rows.ts';
import { storedKeyOf } from './profile-state.repository.ts';
import { toStoredEvent } from './row-mappers.ts';

const num = (v: number | string): number => Number(v);
const PII_TYPES = ['email', 'phone'] as const satisfies readonly string[];
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** A merge chain longer than this is a bug, not data: stop instead of looping. */
const MAX_CHAIN = 64;

type ProfileKey = { readonly workspaceId: string; readonly id: string };
type OfProfile = { readonly workspaceId: string; readonly profileId: string };

// The statements of a profile view (a lookup, a get), compiled once: compiled-once.ts.
const profileRow = (): CompiledOnce<ProfileKey, Selectable<Database['profiles']>> =>
  new CompiledOnce((db, param) =>
    db
      .selectFrom('profiles')
      .selectAll()
      .where('workspace_id', '=', param('workspaceId'))
      .where('id', '=', param('id')),
  );
const mergeLink = (): CompiledOnce<ProfileKey, { id: string; merged_into: string | null }> =>
  new CompiledOnce((db, param) =>
    db
      .selectFrom('profiles')
      .select(['id', 'merged_into'])
      .where('workspace_id', '=', param('workspaceId'))
      .where('id', '=', param('id')),
  );
const identifierOwner = (): CompiledOnce<
  { readonly workspaceId: string; readonly idKey: string },
  { profile_id: string | null }
> =>
  new CompiledOnce((db, param) =>
    db
      .selectFrom('profile_identifiers')
      .select('profile_id')
      .where('workspace_id', '=', param('workspaceId'))
      .where('id_key', '=', param('idKey')),
  );
const identifiersOf = (): CompiledOnce<OfProfile, Selectable<Database['profile_identifiers']>> =>
  new CompiledOnce((db, param) =>
    db
      .selectFrom('profile_identifiers')
      .selectAll()
      .where('workspace_id', '=', param('workspaceId'))
      .where('profile_id', '=', param('profileId')),
  );
const mergedInto = (): CompiledOnce<OfProfile, { id: string }> =>
  new CompiledOnce((db, param) =>
    db
      .selectFrom('profiles')
      .select('id')
      .where('workspace_id', '=', param('workspaceId'))
      .where('merged_into', '=', param('profileId')),
  );
const accountsOfPerson = (): CompiledOnce<OfProfile, Selectable<Database['profile_groups']>> =>
  new CompiledOnce((db, param) =>
    db
      .selectFrom('profile_groups')
      .selectAll()
      .where('workspace_id', '=', param('workspaceId'))
      .where('profile_id', '=', param('profileId'))
      .orderBy('account_id'),
  );

export class KyselyProfileQueryRepository implements ProfileQueryRepository {
  readonly #profileRow = profileRow();
  readonly #mergeLink = mergeLink();
  readonly #identifierOwner = identifierOwner();
  readonly #identifiersOf = identifiersOf();
  readonly #mergedInto = mergedInto();
  readonly #accountsOfPerson = accountsOfPerson();
  readonly #reads: ReadRouting;
  constructor(
    db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
    private readonly sealing: PiiSealing,
    reads: ReadRouting = () => db,
  ) {
    this.#reads = reads;
  }

  /** Every statement here is a read (read-routing.ts decides on which connection). */
  private get db(): Kysely<Database> {
    return this.#reads();
  }

  async resolve(workspaceId: string, id: string): Promise<string | undefined> {
    // Only the id and the link are read: a whole row would open its sealed traits for nothing.
    const row = await this.#survivor(workspaceId, id, (key) => this.#mergeLink.first(this.db, key));
    return row?.id;
  }

  async resolved(workspaceId: string, id: string): Promise<StoredProfile | undefined> {
    const row = await this.#survivor(workspaceId, id, (key) => this.#profileRow.first(this.db, key));
    return row === undefined ? undefined : toProfile(row, this.sealing);
  }

  /** Follows `merged_into` from `id` to the live profile's row. */
  async #survivor<T extends { id: string; merged_into: string | null }>(
    workspaceId: string,
    id: string,
    read: (key: ProfileKey) => Promise<T | undefined>,
  ): Promise<T | undefined> {
    let current = id;
    for (let i = 0; i < MAX_CHAIN; i += 1) {
      const row = await read({ workspaceId, id: current });
      if (row === undefined) return undefined;
      if (row.merged_into === null) return row;
      current = row.merged_into;
    }
    return undefined;
  }

  async ownerOf(workspaceId: string, identifierKey: string): Promise<string | undefined> {
    const idKey = storedKeyOf(this.sealing, identifierKey);
    return (await this.#identifierOwner.first(this.db, { workspaceId, idKey }))?.profile_id ?? undefined;
  }

  async get(workspaceId: string, id: string): Promise<StoredProfile | undefined> {
    const row = await this.#profileRow.first(this.db, { workspaceId, id });
    return row === undefined ? undefined : toProfile(row, this.sealing);
  }

  async identifiers(workspaceId: string, profileId: string): Promise<StoredIdentifier[]> {
    const rows = await this.#identifiersOf.rows(this.db, { workspaceId, profileId });
    // Sealed values have no useful order in SQL: sort the opened ones.
    return rows
      .map((row) => toIdentifier(row, this.sealing))
      .sort((a, b) => compareText(a.type, b.type) || compareText(a.value, b.value));
  }

  async list(workspaceId: string, query: ProfileListQuery): Promise<StoredProfile[]> {
    let builder = this.db
      .selectFrom('profiles')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('kind', '=', query.kind)
      .where('merged_into', 'is', null);
    if (query.afterId !== undefined) builder = builder.where('id', '>', query.afterId);
    if (query.identifierPrefix !== undefined) {
      const prefix = query.identifierPrefix;
      const type = query.identifierType;
      const personal = query.personalIdentifiers !== false;
      const sealedTypes: string[] = PII_TYPES.filter(
        (t) => personal && this.sealing.isPiiIdentifier(t) && (type === undefined || type === t),
      );
      // Types the plain SQL must not search: those searched sealed, or none personal at all.
      const excluded: string[] = personal ? sealedTypes : [...PII_TYPES];
      const byType = query.identifierPrefixByType ?? {};
      const prefixOf = (t: string): string => (Object.hasOwn(byType, t) ? (byType[t] as string) : prefix);
      const sealedMatches = await this.#sealedIdentifierMatches(workspaceId, sealedTypes, prefixOf);
      // Types searched with a prefix of their own, in the plain SQL of an untyped search.
      const own = Object.keys(byType).filter((t) => !excluded.includes(t) && prefixOf(t) !== prefix);
      const startsWith = (p: string) => sql<boolean>`substr(value, 1, ${p.length}) = ${p}`;
      const plain =
        type !== undefined && sealedTypes.includes(type)
          ? null
          : (eb: ExpressionBuilder<Database, 'profiles'>) => {
              let sub = eb
                .selectFrom('profile_identifiers')
                .select('profile_id')
                .where('workspace_id', '=', workspaceId)
                .where('profile_id', 'is not', null);
              if (type !== undefined) {
                // The key is `type:value`: a range scan on the primary key.
                const low = `${type}:${prefixOf(type)}`;
                sub = sub.where('id_key', '>=', low).where('id_key', '<', `${low}\uffff`);
              } else {
                const others = [...excluded, ...own];
                sub = sub.where((sb) =>
                  sb.or([
                    sb.and([
                      sb('type', 'not in', others.length > 0 ? others : ['\u0001']),
                      startsWith(prefix),
                    ]),
                    ...own.map((t) => sb.and([sb('type', '=', t), startsWith(prefixOf(t))])),
                  ]),
                );
              }
              return sub.$narrowType<{ profile_id: string }>();
            };
      const sealed = inIdList(this.dialect, sql`id`, sealedMatches);
      builder = builder.where((eb) => (plain === null ? sealed : eb.or([eb('id', 'in', plain(eb)), sealed])));
    }
    for (const [name, value] of query.traitEquals ?? []) {
      builder = builder.where(
        (await this.sealing.policy(workspaceId)).isPiiTrait(name) && this.sealing.vault !== undefined
          ? inIdList(
              this.dialect,
              sql`id`,
              await this.#sealedTraitMatches(workspaceId, query.kind, name, value),
            )
          : this.#traitEquals(name, value),
      );
    }
    const rows = await builder.orderBy('id').limit(query.limit).execute();
    return rows.map((row) => toProfile(row, this.sealing));
  }

  /** Profiles with an identifier of a sealed type starting with `prefix` (opened here, not in SQL). */
  async #sealedIdentifierMatches(
    workspaceId: string,
    types: readonly string[],
    prefixOf: (type: string) => string,
  ): Promise<string[]> {
    if (types.length === 0) return [];
    const rows = await this.db
      .selectFrom('profile_identifiers')
      .select(['profile_id', 'type', 'value'])
      .where('workspace_id', '=', workspaceId)
      .where('type', 'in', types)
      .where('profile_id', 'is not', null)
      .execute();
    const out = new Set<string>();
    for (const row of rows)
      if (row.profile_id !== null && this.sealing.openText(row.value).startsWith(prefixOf(row.type)))
        out.add(row.profile_id);
    return [...out];
  }

  /** Profiles whose sealed trait `name` equals `value` (same type, as the SQL comparison). */
  async #sealedTraitMatches(
    workspaceId: string,
    kind: ProfileKind,
    name: string,
    value: string | number | boolean,
  ): Promise<string[]> {
    const rows = await this.db
      .selectFrom('profiles')
      .select(['id', 'traits'])
      .where('workspace_id', '=', workspaceId)
      .where('kind', '=', kind)
      .where('merged_into', 'is', null)
      .execute();
    const out: string[] = [];
    for (const row of rows) {
      const traits = JSON.parse(row.traits) as Record<string, JsonValue>;
      if (!Object.hasOwn(traits, name)) continue;
      if (this.sealing.open(traits[name] as JsonValue) === value) out.push(row.id);
    }
    return out;
  }

  #traitEquals(name: string, value: string | number | boolean) {
    if (this.dialect === 'postgres')
      return sql<boolean>`(traits::jsonb -> ${name}) = ${JSON.stringify(value)}::jsonb`;
    // SQLite returns JSON true/false as 1/0 and numbers as numbers; type must match too.
    const path = `$."${name}"`;
    if (typeof value === 'boolean')
      return sql<boolean>`(json_type(traits, ${path}) = ${value ? 'true' : 'false'})`;
    if (typeof value === 'number')
      return sql<boolean>`(json_type(traits, ${path}) in ('integer', 'real') and json_extract(traits, ${path}) = ${value})`;
    return sql<boolean>`(json_type(traits, ${path}) = 'text' and json_extract(traits, ${path}) = ${value})`;
  }

  async timeline(workspaceId: string, query: TimelineQuery): Promise<StoredEvent[]> {
    let builder = this.db
      .selectFrom('profile_events as pe')
      .innerJoin('events as e', 'e.seq', 'pe.seq')
      .selectAll('e')
      .where('pe.workspace_id', '=', workspaceId)
      .where('pe.profile_id', '=', query.profileId);
    if (query.type !== undefined) builder = builder.where('pe.type', '=', query.type);
    if (query.event !== undefined) builder = builder.where('pe.event', '=', query.event);
    if (query.sinceMs !== undefined) builder = builder.where('pe.ts_ms', '>=', query.sinceMs);
    if (query.untilMs !== undefined) builder = builder.where('pe.ts_ms', '<', query.untilMs);
    const before = query.before;
    if (before !== undefined)
      builder = builder.where((eb) =>
        eb.or([
          eb('pe.ts_ms', '<', before.tsMs),
          eb.and([eb('pe.ts_ms', '=', before.tsMs), eb('pe.seq', '<', before.seq)]),
        ]),
      );
    const rows = await builder
      .orderBy('pe.ts_ms', 'desc')
      .orderBy('pe.seq', 'desc')
      .limit(query.limit)
      .execute();
    return rows.map((row) => toStoredEvent(row, this.sealing));
  }

  async mergedIds(workspaceId: string, profileId: string): Promise<string[]> {
    const out: string[] = [];
    let frontier = [profileId];
    for (let depth = 0; depth < MAX_CHAIN && frontier.length > 0; depth += 1) {
      const [only] = frontier;
      const rows =
        frontier.length === 1 && only !== undefined
          ? await this.#mergedInto.rows(this.db, { workspaceId, profileId: only })
          : await this.db
              .selectFrom('profiles')
              .select('id')
              .where('workspace_id', '=', workspaceId)
              .where('merged_into', 'in', frontier)
              .execute();
      frontier = rows.map((r) => r.id).filter((id) => !out.includes(id) && id !== profileId);
      out.push(...frontier);
    }
    return out.sort();
  }

  async merges(workspaceId: string, profileId: string): Promise<MergeRecordView[]> {
    const ids = [profileId, ...(await this.mergedIds(workspaceId, profileId))];
    const rows = await this.db
      .selectFrom('identity_merges')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('survivor_id', 'in', ids)
      .orderBy('ts_ms')
      .orderBy('seq')
      .execute();
    return rows.map((row) => ({
      survivorId: row.survivor_id,
      mergedId: row.merged_id,
      event: { seq: num(row.seq), messageId: row.message_id, timestampMs: num(row.ts_ms) },
      atMs: num(row.at_ms),
    }));
  }

  async decisions(workspaceId: string, profileId: string, limit: number): Promise<DecisionView[]> {
    const rows = await this.db
      .selectFrom('identity_decisions')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', '=', profileId)
      .orderBy('seq', 'desc')
      .orderBy('position')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      seq: num(row.seq),
      kind: row.kind,
      type: row.type,
      value: this.sealing.isPiiIdentifier(row.type) ? this.sealing.openText(row.value) : row.value,
      reason: row.reason,
      limitType: row.limit_type,
      atMs: num(row.at_ms),
    }));
  }

  async traitHistory(
    workspaceId: string,
    profileId: string,
    query: TraitHistoryQuery,
  ): Promise<TraitObservationView[]> {
    let builder = this.db
      .selectFrom('trait_history')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', '=', profileId);
    if (query.trait !== undefined) builder = builder.where('trait', '=', query.trait);
    const before = query.before;
    if (before !== undefined)
      builder = builder.where((eb) => {
        const { tsMs, seq, trait } = before;
        if (seq === undefined) return eb('ts_ms', '<', tsMs);
        const sameEvent = [eb('ts_ms', '=', tsMs), eb('seq', '=', seq)];
        return eb.or([
          eb('ts_ms', '<', tsMs),
          eb.and([eb('ts_ms', '=', tsMs), eb('seq', '<', seq)]),
          ...(trait === undefined ? [] : [eb.and([...sameEvent, eb('trait', '>', trait)])]),
        ]);
      });
    const rows = await builder
      .orderBy('ts_ms', 'desc')
      .orderBy('seq', 'desc')
      .orderBy('trait')
      .limit(query.limit)
      .execute();
    return rows.map((row) => ({
      trait: row.trait,
      value: this.sealing.open(JSON.parse(row.value) as JsonValue),
      sourceId: row.source_id,
      seq: num(row.seq),
      messageId: row.message_id,
      tsMs: num(row.ts_ms),
    }));
  }

  async accountsOf(workspaceId: string, profileId: string): Promise<AccountLink[]> {
    const rows = await this.#accountsOfPerson.rows(this.db, { workspaceId, profileId });
    return rows.map((row) => ({
      accountId: row.account_id,
      profileId: row.profile_id,
      seq: num(row.seq),
      tsMs: num(row.ts_ms),
    }));
  }

  async membersOf(
    workspaceId: string,
    accountId: string,
    limit: number,
    afterId?: string,
  ): Promise<AccountLink[]> {
    let builder = this.db
      .selectFrom('profile_groups')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('account_id', '=', accountId);
    if (afterId !== undefined) builder = builder.where('profile_id', '>', afterId);
    const rows = await builder.orderBy('profile_id').limit(limit).execute();
    return rows.map((row) => ({
      accountId: row.account_id,
      profileId: row.profile_id,
      seq: num(row.seq),
      tsMs: num(row.ts_ms),
    }));
  }

  async count(workspaceId: string, kind: ProfileKind): Promise<number> {
    const row = await this.db
      .selectFrom('profiles')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('workspace_id', '=', workspaceId)
      .where('kind', '=', kind)
      .where('merged_into', 'is', null)
      .executeTakeFirstOrThrow();
    return num(row.n);
  }

  async unlinked(workspaceId: string, limit: number, afterKey?: string): Promise<UnlinkedIdentifierView[]> {
    let builder = this.db.selectFrom('identity_unlinked').selectAll().where('workspace_id', '=', workspaceId);
    if (afterKey !== undefined) builder = builder.where('id_key', '>', afterKey);
    const rows = await builder.orderBy('id_key').limit(limit).execute();
    return rows.map((row) => ({
      type: row.type,
      value: this.sealing.isPiiIdentifier(row.type) ? this.sealing.openText(row.value) : row.value,
      profileId: row.profile_id,
      actor: row.actor,
      atMs: num(row.at_ms),
      key: row.id_key,
    }));
  }

  async decisionCounts(workspaceId: string): Promise<{ kind: string; reason: string; count: number }[]> {
    const rows = await this.db
      .selectFrom('identity_decisions')
      .select(['kind', 'reason', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('workspace_id', '=', workspaceId)
      .groupBy(['kind', 'reason'])
      .orderBy('kind')
      .orderBy('reason')
      .execute();
    return rows.map((row) => ({ kind: row.kind, reason: row.reason, count: num(row.n) }));
  }
}
