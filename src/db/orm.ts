import { MikroORM } from '@mikro-orm/postgresql';
import { ormConfig, type OrmOptions } from '../../mikro-orm.config';
import type { PoolState } from '../metrics/metrics';

/** Any constant shared by all instances: serialises their migrations (see initOrm). */
const MIGRATION_LOCK = 7_220_113;

/**
 * Connects and applies the committed migrations that are still pending. Several instances may start at once:
 * the first takes a transaction-scoped advisory lock and migrates inside that transaction; the others wait for
 * it and then find nothing left to do.
 */
export async function initOrm(options: OrmOptions): Promise<MikroORM> {
  const orm = await MikroORM.init(ormConfig(options));
  try {
    // The connection's own transaction, not em.transactional: that one would switch on AsyncLocalStorage, which
    // then tracks every promise of the process for good (a few percent of all CPU; see bench/README.md).
    const connection = orm.em.getConnection();
    await connection.transactional(async (trx) => {
      await connection.execute('set local statement_timeout = 0; set local lock_timeout = 0', [], 'run', trx); // a migration may be long
      await connection.execute('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK], 'run', trx);
      await orm.getMigrator().up({ transaction: trx });
    });
  } catch (error) {
    await orm.close(true);
    throw error;
  }
  return orm;
}

/** The connection pool (knex's tarn pool) as it is now; undefined once the ORM is closed. */
export function poolState(orm: MikroORM): PoolState | undefined {
  const pool = orm.em.getConnection().getKnex().client.pool;
  return pool && { used: pool.numUsed(), free: pool.numFree(), waiting: pool.numPendingAcquires() };
}
