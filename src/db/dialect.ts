// The few places SQLite and PostgreSQL differ, kept here so stores never branch on the
// database: error classification and lock-taking. Case-insensitive matching is handled by
// storing normalized columns; JSON is stored as text on both.
export type DialectName = 'sqlite' | 'postgres';

/** PostgreSQL's unique_violation, or SQLite's unique/primary-key constraint failure. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * True when the database could not be reached or dropped the connection (as opposed to a
 * query the database rejected): the request gets 503 and the process keeps running.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (UNAVAILABLE_NODE_CODES.has(code)) return true;
    // Class 08 connection exceptions, 57P0x admin shutdown / crash shutdown / cannot connect now.
    if (/^08/.test(code) || /^57P0[1-3]$/.test(code)) return true;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return true;
    // too_many_connections, and a database that is refusing new connections.
    if (code === '53300') return true;
    if (
      code === '55000' &&
      typeof message === 'string' &&
      /not currently accepting connections/.test(message)
    )
      return true;
  }
  if (typeof message === 'string') {
    return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/i.test(
      message,
    );
  }
  return false;
}
