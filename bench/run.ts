/**
 * `npm run bench`: Parley and the hand-written baseline, side by side on identical fresh data, A B A B.
 *
 *   npm run bench                      32 connections × 10 s per workload after a 3 s warm-up, one round
 *   npm run bench -- --quick           about a minute: 1 s warm-up, 2 s runs, W7 with 100 messages; or BENCH_QUICK=1
 *   npm run bench -- --rounds 3        Parley, baseline, Parley, baseline, ... (medians in the table)
 *   npm run bench -- --only W3,W7      a subset of the workloads
 *   npm run bench -- --profile         Parley runs with --cpu-prof; profiles land in bench/results/profiles/
 *   npm run bench -- --redis-url redis://127.0.0.1:6379   Parley's pub/sub over Redis (default: in-process)
 *   npm run bench -- --rate-limits 1000000/1s   Parley's rate limits at this value, all four (default: 0, off)
 *   npm run bench -- --scale --only W3,W4,W5   also W3–W5 on 100,000 chats (2 M messages), and W4 after a burst
 *
 * Uses DATABASE_URL's server when set (a new database per target and round), else an embedded PostgreSQL. Every
 * request carries a user's bearer token, signed with a secret made for the run (AUTH_JWT_SECRET for Parley).
 * Prints one table and writes everything to bench/results/<time>.json.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import type { LoadResult } from './load';
import type { RoomsResult } from './rooms';
import { BenchDatabases, burst } from './seed';
import type { InboxResult } from './inbox';
import type { FanOutResult } from './subscriptions';
import { DATA, WORKLOADS, type WorkloadName } from './workloads';

const ROOT = join(__dirname, '..', '..');
const RESULTS = join(ROOT, 'bench', 'results');
const TARGETS = ['parley', 'baseline'] as const;
type Target = (typeof TARGETS)[number];
type Workload = WorkloadName | 'W7' | 'W9' | 'W10';
const WS_WORKLOADS: readonly Workload[] = ['W7', 'W9', 'W10'];
/** `--scale`: the small chats of the large data set (each of 20 messages: 2 M messages with the big chat's 10,000). */
const SCALE_CHATS = 100_000;
/** The reads measured again on the large data set, as `W3@2M` …; and W4 after a burst, as `W4+burst`. */
const SCALED: readonly Workload[] = ['W3', 'W4', 'W5'];
/** A workload, or one of `--scale`'s variants of one. */
type Row = Workload | `${WorkloadName}@2M` | 'W4+burst';
/** Signs the load generators' tokens and verifies them in both servers; made anew for every run. */
const AUTH_SECRET = randomBytes(32).toString('base64url');

interface Settings {
  rounds: number;
  workloads: Workload[];
  connections: number;
  duration: number;
  warmup: number;
  pool: number;
  subscribers: number;
  /** W7's subscribers are this many users (default: each its own). */
  subscriberUsers?: number;
  messages: number;
  inboxSubscribers: number;
  inboxPosts: number;
  inboxRate: number;
  redisUrl?: string;
  /** Every RATE_LIMIT_* of Parley; `0` (off) unless measuring what counting costs. */
  rateLimits: string;
  profile: boolean;
  quick: boolean;
  scale: boolean;
  /** `--scale`'s burst: messages added to each small chat (1,000 × 150 on 30,000: the table grows 6×). */
  burstMessages: number;
  roomRate: number;
  roomSeconds: number;
}

function settingsFromArgs(): Settings {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: process.env.BENCH_QUICK === '1' },
      rounds: { type: 'string', default: '1' },
      only: { type: 'string' },
      connections: { type: 'string', default: '32' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      pool: { type: 'string', default: '10' },
      subscribers: { type: 'string', default: '1000' },
      'subscriber-users': { type: 'string' },
      messages: { type: 'string' },
      'inbox-subscribers': { type: 'string', default: '200' },
      'inbox-posts': { type: 'string' },
      'inbox-rate': { type: 'string', default: '5' },
      'redis-url': { type: 'string' },
      'rate-limits': { type: 'string', default: '0' },
      profile: { type: 'boolean', default: false },
      scale: { type: 'boolean', default: false },
      'burst-messages': { type: 'string', default: '150' },
      'room-rate': { type: 'string', default: '200' },
      'room-seconds': { type: 'string' },
    },
  });
  const all: Workload[] = ['W1', 'W2', 'W2k', 'W3', 'W4', 'W5', 'W6', 'W7', 'W8', 'W9', 'W10'];
  const workloads = values.only ? (values.only.split(',') as Workload[]) : all;
  const unknown = workloads.filter((w) => !all.includes(w));
  if (unknown.length) throw new Error(`unknown workloads: ${unknown.join(', ')}`);
  return {
    rounds: Number(values.rounds),
    workloads,
    connections: Number(values.connections),
    duration: Number(values.duration ?? (values.quick ? 2 : 10)),
    warmup: Number(values.warmup ?? (values.quick ? 1 : 3)),
    pool: Number(values.pool),
    subscribers: Number(values.subscribers),
    subscriberUsers: values['subscriber-users'] ? Number(values['subscriber-users']) : undefined,
    messages: Number(values.messages ?? (values.quick ? 100 : 200)),
    inboxSubscribers: Number(values['inbox-subscribers']),
    inboxPosts: Number(values['inbox-posts'] ?? (values.quick ? 20 : 50)),
    inboxRate: Number(values['inbox-rate']),
    redisUrl: values['redis-url'],
    rateLimits: values['rate-limits'],
    profile: values.profile,
    quick: values.quick,
    scale: values.scale,
    burstMessages: Number(values['burst-messages']),
    roomRate: Number(values['room-rate']),
    roomSeconds: Number(values['room-seconds'] ?? (values.quick ? 5 : 10)),
  };
}

// ---- processes ----

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts a Node script with the soft limit on open files raised to the hard one (W10 holds 10,000 sockets on each
 * side); run.ts itself holds none of them.
 */
function spawnNode(args: string[], options: Parameters<typeof spawn>[2]): ChildProcess {
  return spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, ...args], options);
}

interface RunningTarget {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

async function startTarget(target: Target, databaseUrl: string, settings: Settings, log: string): Promise<RunningTarget> {
  const port = await freePort();
  const profiling = settings.profile && target === 'parley' ? ['--cpu-prof', `--cpu-prof-dir=${join(RESULTS, 'profiles')}`] : [];
  const [script, args, env] =
    target === 'parley'
      ? [
          join(ROOT, 'dist', 'src', 'main.js'),
          [],
          {
            NODE_ENV: 'production', DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DB_POOL_SIZE: String(settings.pool),
            AUTH_JWT_SECRET: AUTH_SECRET, ...(settings.redisUrl ? { REDIS_URL: settings.redisUrl } : {}),
            // A few users post thousands a second from one address: the limits are off (or set high to measure them).
            RATE_LIMIT_USER_POSTS: settings.rateLimits, RATE_LIMIT_SERVICE_POSTS: settings.rateLimits,
            RATE_LIMIT_IP_REQUESTS: settings.rateLimits, RATE_LIMIT_IP_CONNECTIONS: settings.rateLimits,
          },
        ]
      : [
          join(ROOT, 'dist', 'bench', 'baseline.js'),
          ['--port', String(port), '--database-url', databaseUrl, '--pool', String(settings.pool), '--auth-secret', AUTH_SECRET],
          {},
        ];
  const child = spawnNode([...profiling, script, ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logStream = createWriteStream(log);
  child.stdout!.pipe(logStream);
  child.stderr!.pipe(logStream);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`${target} exited during start (code ${child.exitCode}); see ${log}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (attempt > 300) throw new Error(`${target} did not answer /healthz within 30 s; see ${log}`);
    await sleep(100);
  }
  return {
    url: `${url}/graphql`,
    process: child,
    stop: async () => {
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => false), sleep(15_000).then(() => true)]);
      if (killed) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs a load script in its own process and returns the JSON line it prints. */
function runLoad<T>(script: string, args: string[], env: Record<string, string> = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawnNode([join(ROOT, 'dist', 'bench', script), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, BENCH_AUTH_SECRET: AUTH_SECRET, ...env },
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => {
      const line = output.trim().split('\n').at(-1);
      if (code === 0 && line) resolve(JSON.parse(line));
      else reject(new Error(`${script} ${args.join(' ')} failed with code ${code}`));
    });
  });
}

// ---- one target, one round ----

type Measurement = LoadResult | FanOutResult | InboxResult | RoomsResult;
interface Labelled {
  row: Row;
  result: Measurement;
}

/**
 * W1–W6 and W8 on one server process; W7, W9 and W10 each on a fresh one, so that their memory per subscription and
 * CPU per post are not blurred by the garbage of the others. With `--scale`, W4 again on the first process right
 * after a burst, then W3–W5 on a server over the large data set.
 */
async function measureTarget(target: Target, round: number, databases: BenchDatabases, settings: Settings): Promise<Labelled[]> {
  const results: Labelled[] = [];
  const report = (result: Measurement, row: Row = result.workload) => {
    console.log(`  round ${round} ${target.padEnd(8)} ${row === result.workload ? '' : `${row}: `}${describe(result)}`);
    results.push({ row, result });
  };
  const start = (database: string, phase: string) =>
    startTarget(target, database, settings, join(RESULTS, 'logs', `${target}-round${round}-${phase}.log`));
  const load = (running: RunningTarget, workload: WorkloadName, env?: Record<string, string>) =>
    runLoad<LoadResult>('load.js', [
      '--url', running.url, '--workload', workload, '--pid', String(running.process.pid),
      '--connections', String(settings.connections), '--duration', String(settings.duration), '--warmup', String(settings.warmup),
    ], env);
  const http = settings.workloads.filter((w): w is WorkloadName => !WS_WORKLOADS.includes(w));
  const database = await databases.copy(target, DATA.chats);
  try {
    if (http.length) {
      const running = await start(database.url, 'http');
      try {
        for (const workload of http) report(await load(running, workload));
        if (settings.scale && http.includes('W4')) {
          const grown = await burst(database.url, settings.burstMessages);
          console.log(`  round ${round} ${target.padEnd(8)} burst: message table ${grown.messagesBefore} → ${grown.messagesAfter} rows, ${grown.modifiedSinceAnalyze} modified since ANALYZE`);
          try {
            report(await load(running, 'W4'), 'W4+burst');
          } finally {
            await grown.restore();
          }
        }
      } finally {
        await running.stop();
      }
    }
    if (settings.workloads.includes('W7')) {
      const running = await start(database.url, 'ws');
      try {
        report(
          await runLoad<FanOutResult>('subscriptions.js', [
            '--url', running.url, '--pid', String(running.process.pid),
            '--subscribers', String(settings.subscribers), '--messages', String(settings.messages),
            ...(settings.subscriberUsers ? ['--subscriber-users', String(settings.subscriberUsers)] : []),
          ]),
        );
      } finally {
        await running.stop();
      }
    }
    if (settings.workloads.includes('W9')) {
      const running = await start(database.url, 'inbox');
      try {
        report(
          await runLoad<InboxResult>('inbox.js', [
            '--url', running.url, '--pid', String(running.process.pid), '--subscribers', String(settings.inboxSubscribers),
            '--posts', String(settings.inboxPosts), '--rate', String(settings.inboxRate),
            ...(settings.quick ? ['--reference-posts', '150'] : []),
          ]),
        );
      } finally {
        await running.stop();
      }
    }
    if (settings.workloads.includes('W10')) {
      const running = await start(database.url, 'rooms');
      try {
        report(
          await runLoad<RoomsResult>('rooms.js', [
            '--url', running.url, '--pid', String(running.process.pid), '--rate', String(settings.roomRate), '--seconds', String(settings.roomSeconds),
          ]),
        );
      } finally {
        await running.stop();
      }
    }
  } finally {
    await database.drop();
  }
  const scaled = settings.scale ? http.filter((w) => SCALED.includes(w)) : [];
  if (scaled.length) {
    const large = await databases.copy(target, SCALE_CHATS);
    try {
      const running = await start(large.url, 'scale');
      try {
        for (const workload of scaled) report(await load(running, workload, { BENCH_CHATS: String(SCALE_CHATS) }), `${workload}@2M`);
      } finally {
        await running.stop();
      }
    } finally {
      await large.drop();
    }
  }
  return results;
}

function describe(r: Measurement): string {
  if (r.workload === 'W9') {
    const w9 = r as InboxResult;
    if (w9.skipped) return `W9 skipped: ${w9.skipped}`;
    const l = w9.listened;
    return `W9 CPU/post reference ${w9.reference.serverCpuMsPerPost.toFixed(2)} ms, 1,000 doorbells ${w9.doorbells.serverCpuMsPerPost.toFixed(2)} ms, ` +
      `+${w9.subscribers} inboxes ${l.serverCpuMsPerPost.toFixed(2)} ms; post p50 ${ms(l.postP50)} p99 ${ms(l.postP99)}; ` +
      `delivery p50 ${ms(l.deliveryP50)} p99 ${ms(l.deliveryP99)} max ${ms(l.deliveryMax)} lost ${l.lost} extra ${l.extra} wrong ${l.wrongShape}`;
  }
  if (r.workload === 'W7' || r.workload === 'W10') {
    const f = r as FanOutResult | RoomsResult;
    if (f.skipped) return `${f.workload} skipped: ${f.skipped}`;
    const memory = 'rssPerSocketKiB' in f ? `rss/socket ${f.rssPerSocketKiB.toFixed(1)} KiB` : `rss/sub ${f.rssPerSubscriptionKiB.toFixed(1)} KiB`;
    const failure = 'failure' in f && f.failure ? `; ${f.failedPosts} posts failed, e.g. ${f.failure}` : '';
    return `${f.workload} p50 ${ms(f.p50)} p99 ${ms(f.p99)} max ${ms(f.max)} lost ${f.lost} dup ${f.duplicated} ooo ${f.outOfOrder} wrong ${f.wrongShape} ` +
      `${memory} server CPU ${f.serverCpuMsPerPost.toFixed(2)} ms/post${failure}`;
  }
  const load = r as LoadResult;
  const samples = load.errorSamples.length ? `  e.g. ${load.errorSamples[0]}` : '';
  const cpu = load.serverCpuMsPerRequest === undefined ? '' : ` server CPU ${load.serverCpuMsPerRequest.toFixed(2)} ms/req`;
  return `${load.workload} ${Math.round(load.requestsPerSecond)} req/s p50 ${load.p50} ms p99 ${load.p99} ms errors ${load.errors}${cpu}${samples}`;
}

// ---- the table ----

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const ms = (value: number) => `${value.toFixed(1)} ms`;
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

interface Summary {
  row: Row;
  title: string;
  parley: Record<string, number | string>;
  baseline: Record<string, number | string>;
  ratio: number | null;
  target: string;
  holds: boolean | null;
}

/** Targets of the fan-out workloads: p99 against the baseline's, nothing lost, memory per subscription or socket. */
const FAN_OUT_P99_RATIO = 3;
const FAN_OUT_KIB = 20;
/** `--scale`: a read on the large data set, or W4 after the burst, keeps this much of its req/s on the small one. */
const SCALE_KEEPS = 0.8;

function summarize(row: Row, byRow: Map<Row, Record<Target, Measurement[]>>, settings: Settings): Summary {
  const byTarget = byRow.get(row)!;
  if (row === 'W9') {
    const [parley, baseline] = TARGETS.map((t) => byTarget[t] as InboxResult[]);
    const skipped = [...parley, ...baseline].find((r) => r.skipped)?.skipped;
    const side = (rs: InboxResult[]) => ({
      postsPerSecond: median(rs.map((r) => r.listened.postsPerSecond)),
      postP50: median(rs.map((r) => r.listened.postP50)),
      postP99: median(rs.map((r) => r.listened.postP99)),
      deliveryP50: median(rs.map((r) => r.listened.deliveryP50)),
      deliveryP99: median(rs.map((r) => r.listened.deliveryP99)),
      deliveryMax: Math.max(...rs.map((r) => r.listened.deliveryMax)),
      lost: sum(rs.map((r) => r.listened.lost)),
      errors: sum(rs.map((r) => r.listened.lost + r.listened.extra + r.listened.wrongShape + r.listened.failedPosts + r.doorbells.failedPosts + r.reference.failedPosts)),
      cpuReference: median(rs.map((r) => r.reference.serverCpuMsPerPost)),
      cpuDoorbells: median(rs.map((r) => r.doorbells.serverCpuMsPerPost)),
      cpuListened: median(rs.map((r) => r.listened.serverCpuMsPerPost)),
      doorbellPostP99: median(rs.map((r) => r.doorbells.postP99)),
      ...(rs.find((r) => r.skipped) ? { skipped: rs.find((r) => r.skipped)!.skipped! } : {}),
    });
    const [p, b] = [side(parley), side(baseline)];
    const ratio = skipped ? null : (p.deliveryP99 as number) / (b.deliveryP99 as number);
    return {
      row,
      title: `post, ${DATA.crowd} members, ${settings.inboxSubscribers} inboxes, ${settings.inboxRate}/s`,
      parley: p,
      baseline: b,
      ratio,
      target: '0 lost (informational)',
      holds: skipped ? null : p.errors === 0,
    };
  }
  if (row === 'W7' || row === 'W10') {
    const [parley, baseline] = TARGETS.map((t) => byTarget[t] as (FanOutResult | RoomsResult)[]);
    const skipped = [...parley, ...baseline].find((r) => r.skipped)?.skipped;
    const side = (rs: (FanOutResult | RoomsResult)[]) => ({
      perSecond: median(rs.map((r) => ('postsPerSecond' in r ? r.postsPerSecond : r.deliveriesPerSecond))),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      max: Math.max(...rs.map((r) => r.max)),
      lost: sum(rs.map((r) => r.lost)),
      duplicated: sum(rs.map((r) => r.duplicated)),
      outOfOrder: sum(rs.map((r) => r.outOfOrder)),
      errors: sum(rs.map((r) => r.lost + r.duplicated + r.outOfOrder + r.wrongShape + r.failedPosts)),
      kib: median(rs.map((r) => ('rssPerSocketKiB' in r ? r.rssPerSocketKiB : r.rssPerSubscriptionKiB))),
      cpuMsPerPost: median(rs.map((r) => r.serverCpuMsPerPost)),
      ...(rs.find((r) => r.skipped) ? { skipped: rs.find((r) => r.skipped)!.skipped! } : {}),
    });
    const [p, b] = [side(parley), side(baseline)];
    const ratio = skipped ? null : (p.p99 as number) / (b.p99 as number);
    const per = row === 'W7' ? 'sub' : 'socket';
    return {
      row,
      title:
        row === 'W7'
          ? `${settings.subscribers} subs × ${settings.messages} msgs`
          : `${DATA.rooms * DATA.roomSize} sockets, ${DATA.rooms} chats × ${DATA.roomSize}, ${settings.roomRate} posts/s`,
      parley: p,
      baseline: b,
      ratio,
      target: `p99 ≤ ${FAN_OUT_P99_RATIO}× baseline, 0 lost/dup/ooo, ≤ ${FAN_OUT_KIB} KiB/${per}`,
      holds: skipped ? null : ratio! <= FAN_OUT_P99_RATIO && p.errors === 0 && (p.kib as number) <= FAN_OUT_KIB,
    };
  }
  const side = (rs: LoadResult[]) => ({
    requestsPerSecond: median(rs.map((r) => r.requestsPerSecond)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    errors: sum(rs.map((r) => r.errors)),
    serverCpuMsPerRequest: median(rs.map((r) => r.serverCpuMsPerRequest ?? NaN)),
  });
  const [p, b] = TARGETS.map((t) => side(byTarget[t] as LoadResult[]));
  const ratio = p.requestsPerSecond / b.requestsPerSecond;
  const workload = (byTarget.parley[0] ?? byTarget.baseline[0]).workload as WorkloadName;
  if (row === workload) {
    return { row, title: WORKLOADS[workload].title, parley: p, baseline: b, ratio, target: '≥ 0.5× req/s, 0 errors', holds: ratio >= 0.5 && p.errors === 0 };
  }
  // A --scale variant: against the same target's req/s on the small data set in this run.
  const small = TARGETS.map((t) => side(byRow.get(workload)![t] as LoadResult[]).requestsPerSecond);
  const kept = { parley: p.requestsPerSecond / small[0], baseline: b.requestsPerSecond / small[1] };
  return {
    row,
    title: `${WORKLOADS[workload].title}, ${row === 'W4+burst' ? `after +${settings.burstMessages}/chat, no ANALYZE` : '2 M messages'}`,
    parley: { ...p, kept: kept.parley },
    baseline: { ...b, kept: kept.baseline },
    ratio,
    target: `keeps ${kept.parley.toFixed(2)}× of ${workload} (≥ ${SCALE_KEEPS}; baseline ${kept.baseline.toFixed(2)}×)`,
    holds: kept.parley >= SCALE_KEEPS && p.errors === 0,
  };
}

function table(summaries: Summary[]): string {
  const header = ['', '', 'Parley', '', '', '', '', 'baseline', '', '', '', '', 'Parley÷baseline', ''];
  const columns = ['workload', '', 'req/s', 'p50', 'p99', 'errors', 'CPU/req', 'req/s', 'p50', 'p99', 'errors', 'CPU/req', 'ratio', 'target'];
  const rows = summaries.map((s) => {
    const flag = s.holds === null ? 'n/a' : s.holds ? 'holds' : 'MISSED';
    if (s.row === 'W9') {
      const cells = (x: Record<string, number | string>) =>
        x.skipped
          ? ['skipped', '', '', '', '']
          : [`${Math.round(x.postsPerSecond as number)} post/s`, ms(x.postP50 as number), ms(x.postP99 as number), String(x.errors), ms(x.cpuListened as number)];
      const ratio = s.ratio === null ? '-' : `dlv p99 ${s.ratio.toFixed(2)}×`;
      return [`W9 ${s.title}`, '', ...cells(s.parley), ...cells(s.baseline), ratio, flag];
    }
    if (s.row === 'W7' || s.row === 'W10') {
      const unit = s.row === 'W7' ? '/s' : ' post/s';
      const cells = (x: Record<string, number | string>) =>
        x.skipped
          ? ['skipped', '', '', '', '']
          : [`${Math.round(x.perSecond as number)}${unit}`, ms(x.p50 as number), ms(x.p99 as number), String(x.errors), ms(x.cpuMsPerPost as number)];
      const ratio = s.ratio === null ? '-' : `p99 ${s.ratio.toFixed(2)}×`;
      return [`${s.row} ${s.title}`, '', ...cells(s.parley), ...cells(s.baseline), ratio, flag];
    }
    const cells = (x: Record<string, number | string>) => [
      String(Math.round(x.requestsPerSecond as number)), ms(x.p50 as number), ms(x.p99 as number), String(x.errors), ms(x.serverCpuMsPerRequest as number),
    ];
    return [`${s.row} ${s.title}`, '', ...cells(s.parley), ...cells(s.baseline), `${s.ratio!.toFixed(2)}×`, `${s.row.includes('@') || s.row.includes('+') ? `${s.target} ` : ''}${flag}`];
  });
  const all = [header, columns, ...rows];
  const widths = columns.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
  const notes: string[] = [];
  for (const s of summaries.filter((x) => x.row === 'W7' || x.row === 'W10')) {
    const what = s.row === 'W7' ? 'subscription' : 'socket';
    if (s.parley.skipped || s.baseline.skipped) {
      notes.push(`${s.row} skipped: ${s.parley.skipped ?? s.baseline.skipped}`);
      continue;
    }
    notes.push(
      `${s.row} Parley: lost ${s.parley.lost}, duplicated ${s.parley.duplicated}, out of order ${s.parley.outOfOrder}, max ${ms(s.parley.max as number)}, ` +
        `${(s.parley.kib as number).toFixed(1)} KiB RSS per ${what} (baseline ${(s.baseline.kib as number).toFixed(1)} KiB); CPU/req is per post`,
    );
  }
  for (const w9 of summaries.filter((s) => s.row === 'W9')) {
    if (w9.parley.skipped || w9.baseline.skipped) {
      notes.push(`W9 skipped: ${w9.parley.skipped ?? w9.baseline.skipped}`);
      continue;
    }
    const side = (name: string, x: Record<string, number | string>) =>
      `W9 ${name}: inbox delivery p50 ${ms(x.deliveryP50 as number)} p99 ${ms(x.deliveryP99 as number)} max ${ms(x.deliveryMax as number)}, lost ${x.lost}; ` +
      `server CPU per post: 3-member chat ${ms(x.cpuReference as number)}, 1,000 members no listener ${ms(x.cpuDoorbells as number)} ` +
      `(post p99 ${ms(x.doorbellPostP99 as number)}), + ${w9.title.split(', ')[2]} ${ms(x.cpuListened as number)}`;
    notes.push(side('Parley', w9.parley), side('baseline', w9.baseline));
  }
  return [...all.map(line), ...notes].join('\n');
}

// ---- main ----

function machine() {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    commit: git('rev-parse', '--short', 'HEAD'),
    dirty: git('status', '--porcelain', '--', 'src', 'bench', 'mikro-orm.config.ts') !== '',
  };
}

async function main() {
  const settings = settingsFromArgs();
  await mkdir(join(RESULTS, 'logs'), { recursive: true });
  const configured = loadConfig().databaseUrl;
  const embedded = configured
    ? undefined
    : await startEmbeddedPostgres({ dataDir: join(tmpdir(), `parley-bench-${process.pid}`, 'pg'), port: await freePort(), database: 'parley', persistent: false });
  const serverUrl = configured ?? embedded!.url;
  const about = machine();
  console.log(
    `Parley vs baseline on ${about.cpus} × ${about.cpu}, node ${about.node}, commit ${about.commit}${about.dirty ? ' (dirty)' : ''}; ` +
      `${settings.rounds} round(s), ${settings.connections} connections × ${settings.duration} s after ${settings.warmup} s warm-up, pool ${settings.pool}` +
      `${embedded ? ', embedded PostgreSQL' : ''}`,
  );

  const byRow = new Map<Row, Record<Target, Measurement[]>>();
  const databases = new BenchDatabases(serverUrl);
  try {
    for (let round = 1; round <= settings.rounds; round += 1) {
      for (const target of TARGETS) {
        for (const { row, result } of await measureTarget(target, round, databases, settings)) {
          if (!byRow.has(row)) byRow.set(row, { parley: [], baseline: [] });
          byRow.get(row)![target].push(result);
        }
      }
    }
  } finally {
    await databases.close();
    await embedded?.stop();
  }

  const summaries = [...byRow.keys()].map((row) => summarize(row, byRow, settings));
  console.log(`\n${table(summaries)}`);
  const file = join(RESULTS, `${new Date().toISOString().replace(/[:.]/g, '-')}${settings.quick ? '-quick' : ''}.json`);
  await writeFile(file, JSON.stringify({ machine: about, settings, summaries, raw: Object.fromEntries(byRow) }, null, 2));
  console.log(`\nresults: ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
