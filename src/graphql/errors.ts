import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { isDatabaseUnavailable } from '../db/errors';
import { DomainError } from '../errors';

const UNAVAILABLE = 'SERVICE_UNAVAILABLE';

/**
 * The one place where errors become what a client sees: domain errors keep their message and get their code; a
 * database that is away or too slow is SERVICE_UNAVAILABLE (retry later); anything else unexpected is
 * INTERNAL_SERVER_ERROR, and in production its message is hidden too (it may hold SQL).
 */
export function formatError(production: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const { locations, path } = formatted;
    if (original instanceof DomainError) {
      return { message: original.message, locations, path, extensions: { code: original.code } };
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

/** An answer with SERVICE_UNAVAILABLE errors is HTTP 503 with Retry-After, so clients and proxies know to retry. */
export const unavailableStatusPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        if (response.body.kind !== 'single') return;
        if (!response.body.singleResult.errors?.some((e) => e.extensions?.code === UNAVAILABLE)) return;
        response.http.status = 503;
        response.http.headers.set('retry-after', '1');
      },
    };
  },
};
