/**
 * Diagnostic: times every SQLite statement run through better-sqlite3 in this process, grouped
 * by SQL text (value lists collapsed), by wrapping the Statement methods. A CPU profile shows
 * only "executeQuery"; this says which statement the time goes to. Install before any store
 * is opened. For diagnosis only: the wrapper costs a little per statement.
 */
import BetterSqlite3 from 'better-sqlite3';

export interface StatementTime {
  readonly sql: string;
  readonly calls: number;
  readonly ms: number;
}

type StatementMethod = (this: { source: string }, ...args: unknown[]) => unknown;

const times = new Map<string, { calls: number; ms: number }>();

/** `(?, ?), (?, ?)` and `in (?, ?, …)` collapse, so one multi-row statement is one entry. */
function shape(sql: string): string {
  return sql
    .replace(/\(\?(, \?)*\)(, \(\?(, \?)*\))*/g, '(…)')
    .replace(/\s+/g, ' ')
    .slice(0, 160);
}

export function installStatementTimer(): void {
  const probe = new BetterSqlite3(':memory:');
  const prototype = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, StatementMethod>;
  probe.close();
  for (const name of ['run', 'all', 'get', 'iterate']) {
    const original = prototype[name];
    if (original === undefined) continue;
    prototype[name] = function (this: { source: string }, ...args: unknown[]): unknown {
      const started = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        const key = shape(this.source);
        const entry = times.get(key) ?? { calls: 0, ms: 0 };
        entry.calls += 1;
        entry.ms += performance.now() - started;
        times.set(key, entry);
      }
    };
  }
}

export function resetStatementTimes(): void {
  times.clear();
}

/** Slowest first. */
export function statementTimes(): StatementTime[] {
  return [...times].map(([sql, { calls, ms }]) => ({ sql, calls, ms })).sort((a, b) => b.ms - a.ms);
}
