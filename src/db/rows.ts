import type { EntityClass, EntityManager } from '@mikro-orm/postgresql';

/**
 * A row under the entity's property names, not a managed entity: what the hot paths read and write with written-out
 * SQL, skipping the identity map and change tracking. As a decorated parameter's type (`@Root() chat: Row<Chat>`) it
 * also tells type-graphql to pass the value as it is: with a class type there it would construct an entity from
 * every row, once per field resolved.
 */
export type Row<T> = { [K in keyof T]: T[K] };

/** Database rows as values of the entity's shape, mapped column to property by the ORM's own metadata. */
export function toRows<T extends object>(em: EntityManager, entity: EntityClass<T>, rows: Record<string, unknown>[]): Row<T>[] {
  const meta = em.getMetadata().get<T>(entity.name);
  return rows.map((row) => em.getDriver().mapResult(row as never, meta) as Row<T>);
}
