import type { MikroORM } from '@mikro-orm/postgresql';
import { Kind, parse } from 'graphql';
import type { Authenticator } from '../auth/authenticator';
import type { Viewer } from '../auth/viewer';
import { DomainError } from '../errors';
import type { RateLimits } from '../rate-limits/rate-limits';
import { requestError } from './errors';
import { MAX_TOKENS } from './limits';
import { createLoaders, createRepositories, type Scope } from '../modules/scope';

/** Per request (or per subscription event): who calls, its own entity manager, repositories and dataloaders. */
export interface Context extends Omit<Scope, 'viewer'> {
  /** Null only for a token-less introspection request (development), which reaches no resolver of ours. */
  viewer: Viewer | null;
  /** Shared by every request: the posting budgets (graphql/post-limit.ts). */
  rateLimits: RateLimits;
}

const NOBODY: Viewer = Object.freeze({ userId: '', service: false });

export function createContext(orm: MikroORM, viewer: Viewer | null, rateLimits: RateLimits): Context {
  const em = orm.em.fork();
  const repositories = createRepositories(em);
  return { viewer, em, repositories, loaders: createLoaders(repositories, viewer ?? NOBODY), rateLimits };
}

/** The context as services take it: with a caller. */
export function scopeOf(context: Context): Scope {
  if (!context.viewer) throw new DomainError('UNAUTHENTICATED', 'missing token');
  return context as Scope;
}

/** What an HTTP request says about its caller: its `Authorization` header, and the query (for the token-less case). */
export interface HttpCredentials {
  authorization?: string;
  query?: unknown;
}

/**
 * The viewer of an HTTP request. Every operation needs a valid bearer token, except introspection alone while
 * introspection is on, so Apollo Sandbox loads the schema before a header is pasted. Failures are UNAUTHENTICATED
 * with HTTP 401 (Apollo takes the status of a context error from the error itself; plugins never see it).
 */
export async function viewerOf(authenticator: Authenticator, credentials: HttpCredentials, introspection: boolean): Promise<Viewer | null> {
  if (!credentials.authorization && introspection && isIntrospectionOnly(credentials.query)) return null;
  try {
    return (await authenticator.authenticate(credentials.authorization)).viewer;
  } catch (error) {
    throw error instanceof DomainError ? requestError(error) : error;
  }
}

const INTROSPECTION_FIELDS = new Set(['__schema', '__type', '__typename']);

/** True when every operation of the query is a query selecting only __schema, __type or __typename at its root. */
function isIntrospectionOnly(query: unknown): boolean {
  if (typeof query !== 'string') return false;
  let document;
  try {
    document = parse(query, { maxTokens: MAX_TOKENS });
  } catch {
    return false;
  }
  return document.definitions.every(
    (definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION ||
      (definition.kind === Kind.OPERATION_DEFINITION &&
        definition.operation === 'query' &&
        definition.selectionSet.selections.every((s) => s.kind === Kind.FIELD && INTROSPECTION_FIELDS.has(s.name.value))),
  );
}
