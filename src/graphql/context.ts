import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { createLoaders, type Loaders } from './loaders';

/** Per request (or per subscription event): its own entity manager and dataloaders, dropped afterwards. */
export interface Context {
  em: EntityManager;
  loaders: Loaders;
}

export function createContext(orm: MikroORM): Context {
  const em = orm.em.fork();
  return { em, loaders: createLoaders(em) };
}
