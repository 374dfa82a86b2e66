import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from '../database-schema.ts';

type Parameters = Readonly<Record<string, unknown>>;

/** What a compiled parameter is filled with: a named value of the call, or a constant of the query. */
type Slot = { readonly name: string } | { readonly constant: unknown };

interface Compiled<R> {
  readonly query: CompiledQuery<R>;
  readonly slots: readonly Slot[];
}

const MARK = '\u0000compiled-once:';

/**
 * A query built and compiled once, then run with each call's values. Kysely builds and compiles
 * a query object on every execution (8–15 µs for a simple select, more for an insert); a profile
 * lookup runs about fifteen statements, so on the hot read paths that was a fifth of a
 * lookup's CPU. The SQL is the dialect's own (compiled by the store's Kysely instance), so both
 * stores keep one code path.
 *
 * `build` receives `param(name)`, which stands for the value of `name` in the parameters of
 * `run`; only values bound as SQL parameters may be named (not list lengths: an `in` list
 * compiles to as many placeholders as it has items).
 *
 * The text is the dialect's of the first database it runs on, so an instance belongs to one
 * store: a repository holds its own (a process may open both stores, as the tests do).
 */
export class CompiledOnce<P extends Parameters, R> {
  #compiled: Compiled<R> | undefined;

  constructor(
    private readonly build: (
      db: Kysely<Database>,
      param: <K extends keyof P & string>(name: K) => P[K],
    ) => Compilable<R>,
  ) {}

  /** Runs on `db` (the store's instance, a transaction or a connection of it). */
  async run(db: Kysely<Database>, parameters: P): Promise<QueryResult<R>> {
    const compiled = (this.#compiled ??= this.#compile(db));
    const values = compiled.slots.map((slot) => ('name' in slot ? parameters[slot.name] : slot.constant));
    return db.executeQuery<R>({ ...compiled.query, parameters: values });
  }

  async rows(db: Kysely<Database>, parameters: P): Promise<R[]> {
    return (await this.run(db, parameters)).rows;
  }

  async first(db: Kysely<Database>, parameters: P): Promise<R | undefined> {
    return (await this.run(db, parameters)).rows[0];
  }

  #compile(db: Kysely<Database>): Compiled<R> {
    const named = new Set<string>();
    const query = this.build(db, (name) => {
      named.add(name);
      return `${MARK}${name}` as never;
    }).compile();
    const slots = query.parameters.map((value): Slot => {
      if (typeof value === 'string' && value.startsWith(MARK)) return { name: value.slice(MARK.length) };
      return { constant: value };
    });
    const used = new Set(slots.flatMap((slot) => ('name' in slot ? [slot.name] : [])));
    for (const name of named)
      if (!used.has(name)) throw new Error(`compiled query: parameter "${name}" is not bound as a value`);
    return { query, slots };
  }
}
