import type { MikroORM } from '@mikro-orm/postgresql';
import type { Viewer } from '../auth/viewer';
import { DomainError } from '../errors';
import { createLoaders, createRepositories, type Scope } from '../modules/scope';

/** Per request (or per subscription event): who calls, its own entity manager, repositories and dataloaders. */
export interface Context extends Omit<Scope, 'viewer'> {
  /** Null only for a token-less introspection request (development), which reaches no resolver of ours. */
  viewer: Viewer | null;
}

const NOBODY: Viewer = Object.freeze({ userId: '', service: false });

export function createContext(orm: MikroORM, viewer: Viewer | null): Context {
  const em = orm.em.fork();
  const repositories = createRepositories(em);
  return { viewer, em, repositories, loaders: createLoaders(repositories, viewer ?? NOBODY) };
}

/** The context as services take it: with a caller. */
export function scopeOf(context: Context): Scope {
  if (!context.viewer) throw new DomainError('UNAUTHENTICATED', 'missing token');
  return context as Scope;
}
