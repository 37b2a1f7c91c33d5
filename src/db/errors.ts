/**
 * SQLSTATEs after which the same request can succeed if retried shortly: the server or the connection went away
 * (class 08, 57P01-57P03, 53300, a database not accepting connections), or a bound on waiting was hit
 * (statement or lock timeout, deadlock, serialization failure).
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
const RETRYABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '55000', '57014', '55P03', '40001', '40P01']);
/** The socket to PostgreSQL failed (node's errno codes). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);
/** Errors pg and knex raise without a code: a dropped connection, no connection within the acquire timeout. */
const UNAVAILABLE_MESSAGES = /Connection terminated|Timeout acquiring a connection|timeout exceeded when trying to connect|Client has encountered a connection error/i;

/** True when a database error says "unavailable for now" rather than "this request is wrong" (or a bug of ours). */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error as { code?: unknown; message?: unknown; cause?: unknown; name?: unknown } | undefined; e; e = e.cause as typeof e) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (RETRYABLE_SQLSTATES.has(code) || code.startsWith('08') || NETWORK_CODES.has(code)) return true;
    if (e.name === 'KnexTimeoutError' || UNAVAILABLE_MESSAGES.test(String(e.message))) return true;
  }
  return false;
}
