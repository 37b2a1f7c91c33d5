import type { EntityClass, EntityManager, Transaction } from '@mikro-orm/postgresql';

/**
 * Database rows as plain objects of the entity's shape, mapped column to property by the ORM's own metadata, but
 * not managed by it: no identity map, no change tracking. The hot paths read with written-out SQL and use these.
 * (Re-decided with change-tracking accessors off: instances of the entity class would cost a copy per row, 50-65 ns
 * against 3-10 ns for the plain object the ORM's mapper already builds, for no gain but the `@Root()` type.)
 */
export function toRows<T extends object>(em: EntityManager, entity: EntityClass<T>, rows: Record<string, unknown>[]): T[] {
  const meta = em.getMetadata().get<T>(entity.name);
  return rows.map((row) => em.getDriver().mapResult(row as never, meta) as T);
}

/**
 * The type of a `@Root()` parameter that receives such a row. A class type there would make type-graphql build an
 * entity from the row on every call; this mapped type tells it to pass the value as it is.
 */
export type Row<T> = { [K in keyof T]: T[K] };

/** Runs written-out SQL, inside `trx` when given. */
export type Sql = (query: string, params: unknown[]) => Promise<Record<string, any>[]>;

/**
 * Not em.transactional: that one would switch on AsyncLocalStorage, which then tracks every promise of the process
 * for good (a few percent of all CPU; see bench/README.md). The connection's own transactions do not.
 */
export function sqlIn(em: EntityManager, trx?: Transaction): Sql {
  return (query, params) => em.getConnection().execute(query, params, 'all', trx);
}

/**
 * A PostgreSQL array literal, sent as one parameter (the ORM would otherwise expand an array into one parameter per
 * element). Strings are quoted and escaped, so any text is safe; numbers go as they are.
 */
export function pgArray(values: readonly (string | number)[]): string {
  return `{${values.map((v) => (typeof v === 'number' ? v : `"${v.replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`;
}
