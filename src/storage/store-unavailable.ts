/**
 * Which driver errors mean "the store cannot be reached or cannot write right now" rather than
 * "this request or this event is wrong". The difference decides what callers do: a request gets
 * 503 with Retry-After (not 500), and a pipeline stage waits for the store instead of counting
 * attempts against the events it was processing and moving them to the failed events. An event
 * is poison when processing it fails; it is not poison because the database restarted.
 *
 * Classified by the drivers' documented codes, never by importing them: SQLSTATE classes and
 * codes for PostgreSQL (plus the socket errors and the messages `pg` uses for a lost
 * connection), result codes for SQLite. Causes are followed a few levels deep, since callers
 * wrap what they rethrow.
 */

/**
 * Connection exceptions (08…), the server shutting down or starting (57P01–57P03), its disk
 * full (53100), too many connections (53300), an I/O error (58030).
 */
const PG_UNAVAILABLE_CODE = /^(08...|57P0[1-3]|53100|53300|58030)$/;
/** The database exists but refuses connections (maintenance): SQLSTATE 55000 is too broad alone. */
const PG_NOT_ACCEPTING = /is not currently accepting connections/;
/** Socket errors of a lost or refused connection. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** What `pg` and `pg-pool` throw, without a code, when a connection ends or cannot be made. */
const PG_CONNECTION_MESSAGE =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed and is not queryable)/;
/**
 * SQLite: the database locked past the busy timeout (another process writing, a backup), the
 * disk full, I/O errors, the file unopenable or read-only (a file system remounted read-only
 * after errors), memory exhausted. Constraint, schema and misuse errors are not here: they are
 * about the statement.
 */
const SQLITE_UNAVAILABLE_CODE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|READONLY|NOMEM|PROTOCOL)(_|$)/;

const MAX_CAUSE_DEPTH = 4;

function fieldOf(error: object, name: string): unknown {
  return (error as Record<string, unknown>)[name];
}

function someCause(error: unknown, test: (error: object) => boolean): boolean {
  let current = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH; depth += 1) {
    if (typeof current !== 'object' || current === null) return false;
    if (test(current)) return true;
    current = fieldOf(current, 'cause');
  }
  return false;
}

export function isPostgresUnavailable(error: unknown): boolean {
  return someCause(error, (e) => {
    const code = fieldOf(e, 'code');
    const message = fieldOf(e, 'message');
    if (typeof code === 'string') {
      if (PG_UNAVAILABLE_CODE.test(code) || NETWORK_CODES.has(code)) return true;
      if (code === '55000' && typeof message === 'string' && PG_NOT_ACCEPTING.test(message)) return true;
    }
    return typeof message === 'string' && PG_CONNECTION_MESSAGE.test(message);
  });
}

export function isSqliteUnavailable(error: unknown): boolean {
  return someCause(error, (e) => {
    const code = fieldOf(e, 'code');
    return typeof code === 'string' && SQLITE_UNAVAILABLE_CODE.test(code);
  });
}
