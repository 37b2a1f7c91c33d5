import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError, Kind } from 'graphql';
import { isDatabaseUnavailable } from '../db/errors';
import { DomainError, type ErrorCode } from '../errors';
import type { Metrics } from '../metrics/metrics';

const UNAVAILABLE = 'SERVICE_UNAVAILABLE';

/**
 * The one place where errors become what a client sees, over HTTP and websockets, and where they are counted by
 * code: domain errors keep their message and get their code; a database that is away or too slow is
 * SERVICE_UNAVAILABLE (retry later); anything else unexpected is INTERNAL_SERVER_ERROR, and in production its message
 * is hidden too (it may hold SQL).
 */
export function formatError(production: boolean, metrics: Metrics) {
  const format = clientView(production);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const answered = format(formatted, error);
    metrics.errorAnswered(answered.extensions?.code);
    return answered;
  };
}

function clientView(production: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = underlying(error);
    const { locations, path } = formatted;
    if (original instanceof DomainError) {
      return { message: original.message, locations, path, extensions: { code: original.code, ...original.extensions } };
    }
    if (isDatabaseUnavailable(original)) {
      return { message: 'The database is unavailable or busy; retry shortly', locations, path, extensions: { code: UNAVAILABLE } };
    }
    if (production && formatted.extensions?.code === 'INTERNAL_SERVER_ERROR') {
      return { message: 'Internal server error', locations, path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    }
    return formatted;
  };
}

/** The domain error behind a resolver error or a request error (below), else the error itself. */
function underlying(error: unknown): unknown {
  const original = unwrapResolverError(error);
  return original instanceof GraphQLError && original.originalError instanceof DomainError ? original.originalError : original;
}

/** The HTTP status of a request refused before it runs (in Apollo's context function). */
const REQUEST_ERROR_STATUS: Partial<Record<ErrorCode, number>> = { UNAUTHENTICATED: 401 };

/**
 * A domain error thrown from Apollo's context function: Apollo answers it with the status in `extensions.http`
 * (500 without one), and formatError above reduces it to message and code.
 */
export function requestError(error: DomainError): GraphQLError {
  const status = REQUEST_ERROR_STATUS[error.code] ?? 400;
  return new GraphQLError(error.message, { originalError: error, extensions: { code: error.code, http: { status } } });
}

/**
 * Statuses that tell clients and proxies to retry later. An answer with SERVICE_UNAVAILABLE errors is HTTP 503 with
 * Retry-After. An operation of one root field refused RATE_LIMITED is HTTP 429 with the error's `retryAfter` as
 * Retry-After: nothing of it ran. (With several root fields, some may have run: their answer stays 200.)
 */
export const retryStatusPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, operation }) {
        if (response.body.kind !== 'single') return;
        const errors = response.body.singleResult.errors;
        if (errors?.some((e) => e.extensions?.code === UNAVAILABLE)) {
          response.http.status = 503;
          response.http.headers.set('retry-after', '1');
          return;
        }
        const refused = errors?.find((e) => e.extensions?.code === 'RATE_LIMITED');
        const [root, ...others] = operation?.selectionSet.selections ?? [];
        if (!refused || root?.kind !== Kind.FIELD || others.length) return;
        response.http.status = 429;
        response.http.headers.set('retry-after', String(refused.extensions!.retryAfter));
      },
    };
  },
};

/**
 * The HTTP formatting above for websocket errors. Apollo gives every error a code before formatting; here that
 * falls to us: an exception thrown by our code is INTERNAL_SERVER_ERROR, an error graphql-js raises about the
 * request itself (a variable of the wrong type) BAD_USER_INPUT. A subscription that could not start carries its
 * errors in a SubscribeErrors, sent as they are.
 */
export function formatWebSocketErrors(production: boolean, metrics: Metrics) {
  const format = formatError(production, metrics);
  const formatOne = (error: GraphQLError): GraphQLFormattedError => {
    // A source stream's error (a feed that gave up) comes wrapped by graphql-ws, without the path Apollo unwraps by.
    if (error.originalError instanceof DomainError) return format(error.toJSON(), error.originalError);
    const formatted = error.toJSON();
    const thrown = error.originalError && !(error.originalError instanceof GraphQLError);
    const code = formatted.extensions?.code ?? (thrown ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT');
    return format({ ...formatted, extensions: { ...formatted.extensions, code } }, error);
  };
  return (errors: readonly GraphQLError[]): GraphQLFormattedError[] => errors.flatMap(unwrapSubscribeErrors).map(formatOne);
}

/** Thrown by the first `next()` of a subscription that could not start; graphql-ws sends it as an `error` message. */
export class SubscribeErrors extends Error {
  constructor(readonly errors: readonly GraphQLError[]) {
    super(errors.map((error) => error.message).join('; '));
  }
}

function unwrapSubscribeErrors(error: GraphQLError): readonly GraphQLError[] {
  return error.originalError instanceof SubscribeErrors ? error.originalError.errors : [error];
}

export function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code } });
}
