import { createHash } from 'node:crypto';
import type { EntityClass, EntityManager, Transaction } from '@mikro-orm/postgresql';
import type { Client } from 'pg';

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

/**
 * A repository's written-out SQL, with `$n` parameters. pg sends it under its name, so PostgreSQL parses it once per
 * connection and afterwards only binds and executes it (the name comes from the text: one text, one name).
 */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

export function statement(text: string): Statement {
  return { name: `parley_${createHash('sha1').update(text).digest('base64url').slice(0, 16)}`, text };
}

/**
 * Runs a statement on a connection of the ORM's pool (the transaction's own when `trx` is given), straight through
 * pg: the ORM's `execute` would inline the values and send a new statement text every time. Logged as the ORM logs
 * its queries (the statement counts of test/batching.test.ts).
 *
 * Not em.transactional for transactions: that one would switch on AsyncLocalStorage, which then tracks every promise
 * of the process for good (a few percent of all CPU; see bench/README.md). The connection's own transactions do not.
 */
export async function execute(em: EntityManager, { name, text }: Statement, values: unknown[], trx?: Transaction): Promise<Record<string, any>[]> {
  const pool = (trx ?? em.getConnection().getKnex()).client;
  const logger = em.config.getLogger();
  const started = Date.now();
  const connection: Client = await pool.acquireConnection();
  try {
    const { rows } = await connection.query({ name, text, values });
    logger.logQuery({ query: text, level: 'info', took: Date.now() - started, results: rows.length });
    return rows;
  } catch (error) {
    logger.logQuery({ query: text, level: 'error', took: Date.now() - started });
    throw error;
  } finally {
    await pool.releaseConnection(connection);
  }
}
