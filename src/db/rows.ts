import type { EntityClass, EntityManager } from '@mikro-orm/postgresql';

/**
 * Database rows as instances of the entity class, mapped column to property by the ORM's own metadata, but not
 * managed by it: no identity map, no change tracking. The hot paths read with written-out SQL and use these.
 * Being real instances matters to type-graphql too: it would otherwise build an entity from a plain row for every
 * field resolver call.
 */
export function toEntities<T extends object>(em: EntityManager, entity: EntityClass<T>, rows: Record<string, unknown>[]): T[] {
  const meta = em.getMetadata().get<T>(entity.name);
  return rows.map((row) => Object.assign(Object.create(entity.prototype), em.getDriver().mapResult(row as never, meta)));
}
