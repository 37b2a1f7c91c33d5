export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'UNAUTHENTICATED'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE';

/** An error the client can act on. `graphql/errors.ts` is the one place that turns it into a GraphQL error. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** More for the client beside the code, e.g. `retryAfter`. */
    readonly extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const badInput = (message: string) => new DomainError('BAD_USER_INPUT', message);
export const notFound = (message: string) => new DomainError('NOT_FOUND', message);
export const forbidden = (message: string) => new DomainError('FORBIDDEN', message);
export const serviceUnavailable = (message: string) => new DomainError('SERVICE_UNAVAILABLE', message);
/** Over a rate limit; `retryAfter` is in whole seconds, as in HTTP's Retry-After. */
export const rateLimited = (message: string, retryAfter: number) => new DomainError('RATE_LIMITED', message, { retryAfter });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The canonical (lower-case) form of a UUID argument. Ids are accepted in any case, but answers, pub/sub topics
 * and loader keys only ever see this form, so one chat never splits into two.
 */
export function uuidOf(value: string, field: string): string {
  if (!UUID.test(value)) throw badInput(`${field} must be a UUID, got "${value.slice(0, 50)}"`);
  return value.toLowerCase();
}
