import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { loadConfig } from './src/config';
import { Chat } from './src/modules/chat/chat.entity';
import { Member } from './src/modules/member/member.entity';
import { Message } from './src/modules/message/message.entity';
import { migrationsList } from './migrations';

export interface OrmOptions {
  databaseUrl: string;
  poolSize?: number;
  /** Bound on waiting for a connection, a lock or a statement (ms); unset means no bound (the CLI). */
  timeoutMs?: number;
  /** Called with every SQL statement the ORM sends (used to count statements). */
  onQuery?: (sql: string) => void;
  /** Receives the database driver's warnings (a dropped connection), which it would print as plain text. */
  logger?: Logger;
}

/** The ORM config the app and the CLI share. Migrations are listed explicitly so compiled and ts runs agree. */
export function ormConfig({ databaseUrl, poolSize = 10, timeoutMs, onQuery, logger }: OrmOptions): Options {
  return defineConfig({
    clientUrl: databaseUrl,
    entities: [Chat, Message, Member],
    extensions: [Migrator],
    // The database must exist: creating it here would race between instances starting together.
    ensureDatabase: false,
    pool: { min: 0, max: poolSize },
    // A stuck lock or a database that does not answer must not hold requests for ever (SERVICE_UNAVAILABLE instead);
    // knex, under the ORM, prints its warnings with console.log ("Connection Error: ..." for every dropped connection).
    driverOptions: {
      ...(timeoutMs && { acquireConnectionTimeout: timeoutMs }),
      connection: {
        ...(timeoutMs && { connectionTimeoutMillis: timeoutMs, statement_timeout: timeoutMs, lock_timeout: timeoutMs }),
        // The repositories' statements are prepared once per connection (src/db/rows.ts). Planned without their
        // values, they are planned once too: PostgreSQL's default would plan a read of one chat afresh on every call,
        // as the generic plan's estimate for an array of unknown length is higher. test/plans.test.ts checks that
        // the hot reads' generic plans use only the primary-key and (chat_id, seq) indexes.
        options: '-c plan_cache_mode=force_generic_plan',
      },
      ...(logger && { log: knexLog(logger) }),
    },
    // Entities are never changed and flushed (the services write with SQL): skip the per-property accessors the
    // ORM would put on their prototypes for change tracking, which make building and reading any entity slower.
    propagationOnPrototype: false,
    migrations: {
      path: join(__dirname, 'migrations'),
      migrationsList,
      emit: 'ts',
      snapshot: false,
      transactional: true,
    },
    debug: onQuery ? ['query'] : false,
    logger: onQuery ?? (() => undefined),
    colors: false,
  });
}

function knexLog(logger: Logger) {
  const line = (level: 'debug' | 'warn' | 'error') => (message: unknown) => logger[level]({ source: 'knex' }, String(message));
  return { debug: line('debug'), warn: line('warn'), error: line('error'), deprecate: line('warn') };
}

/** For `npx mikro-orm` (migration:create and friends): DATABASE_URL, else the embedded PostgreSQL of `npm start`. */
export default (() => {
  const config = loadConfig();
  const embedded = `postgresql://postgres:password@127.0.0.1:${config.embeddedPgPort}/parley`;
  const options = ormConfig({ databaseUrl: config.databaseUrl ?? embedded });
  // The snapshot lets migration:create diff against the last migration; the app itself never writes it.
  return { ...options, migrations: { ...options.migrations, snapshot: true, snapshotName: '.snapshot' } };
})();
