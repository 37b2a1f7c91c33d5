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
import { createSeededDatabase } from './seed';
import type { InboxResult } from './inbox';
import type { FanOutResult } from './subscriptions';
import { DATA, WORKLOADS, type WorkloadName } from './workloads';

const ROOT = join(__dirname, '..', '..');
const RESULTS = join(ROOT, 'bench', 'results');
const TARGETS = ['parley', 'baseline'] as const;
type Target = (typeof TARGETS)[number];
type Workload = WorkloadName | 'W7' | 'W9';
const WS_WORKLOADS: readonly Workload[] = ['W7', 'W9'];
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
    },
  });
  const all: Workload[] = ['W1', 'W2', 'W2k', 'W3', 'W4', 'W5', 'W6', 'W7', 'W8', 'W9'];
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
  const child = spawn(process.execPath, [...profiling, script, ...args], {
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
function runLoad<T>(script: string, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'bench', script), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, BENCH_AUTH_SECRET: AUTH_SECRET },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => {
      const line = output.trim().split('\n').at(-1);
      if (code === 0 && line) resolve(JSON.parse(line));
      else reject(new Error(`${script} ${args.join(' ')} failed with code ${code}`));
    });
  });
}

// ---- one target, one round ----

type Measurement = LoadResult | FanOutResult | InboxResult;

/**
 * W1–W6 and W8 on one server process; W7 and W9 each on a fresh one, so that W7's memory per subscription and W9's CPU
 * per post are not blurred by the garbage of the others.
 */
async function measureTarget(target: Target, round: number, serverUrl: string, settings: Settings): Promise<Measurement[]> {
  const database = await createSeededDatabase(serverUrl, target);
  const results: Measurement[] = [];
  const report = (result: Measurement) => {
    console.log(`  round ${round} ${target.padEnd(8)} ${describe(result)}`);
    results.push(result);
  };
  const start = (phase: string) => startTarget(target, database.url, settings, join(RESULTS, 'logs', `${target}-round${round}-${phase}.log`));
  try {
    const http = settings.workloads.filter((w): w is WorkloadName => !WS_WORKLOADS.includes(w));
    if (http.length) {
      const running = await start('http');
      try {
        for (const workload of http) {
          report(
            await runLoad<LoadResult>('load.js', [
              '--url', running.url, '--workload', workload, '--pid', String(running.process.pid),
              '--connections', String(settings.connections), '--duration', String(settings.duration), '--warmup', String(settings.warmup),
            ]),
          );
        }
      } finally {
        await running.stop();
      }
    }
    if (settings.workloads.includes('W7')) {
      const running = await start('ws');
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
      const running = await start('inbox');
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
  } finally {
    await database.drop();
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
  if (r.workload === 'W7') {
    const w7 = r as FanOutResult;
    if (w7.skipped) return `W7 skipped: ${w7.skipped}`;
    return `W7 p50 ${ms(w7.p50)} p99 ${ms(w7.p99)} max ${ms(w7.max)} lost ${w7.lost} dup ${w7.duplicated} ooo ${w7.outOfOrder} rss/sub ${w7.rssPerSubscriptionKiB.toFixed(1)} KiB`;
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
  workload: Workload;
  title: string;
  parley: Record<string, number | string>;
  baseline: Record<string, number | string>;
  ratio: number | null;
  target: string;
  holds: boolean | null;
}

function summarize(workload: Workload, byTarget: Record<Target, Measurement[]>, settings: Settings): Summary {
  if (workload === 'W9') {
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
      workload,
      title: `post, ${DATA.crowd} members, ${settings.inboxSubscribers} inboxes, ${settings.inboxRate}/s`,
      parley: p,
      baseline: b,
      ratio,
      target: '0 lost (informational)',
      holds: skipped ? null : p.errors === 0,
    };
  }
  if (workload === 'W7') {
    const [parley, baseline] = TARGETS.map((t) => byTarget[t] as FanOutResult[]);
    const skipped = [...parley, ...baseline].find((r) => r.skipped)?.skipped;
    const side = (rs: FanOutResult[]) => ({
      deliveriesPerSecond: median(rs.map((r) => r.deliveriesPerSecond)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      max: Math.max(...rs.map((r) => r.max)),
      lost: sum(rs.map((r) => r.lost)),
      duplicated: sum(rs.map((r) => r.duplicated)),
      outOfOrder: sum(rs.map((r) => r.outOfOrder)),
      errors: sum(rs.map((r) => r.lost + r.duplicated + r.outOfOrder + r.wrongShape + r.failedPosts)),
      rssPerSubscriptionKiB: median(rs.map((r) => r.rssPerSubscriptionKiB)),
      ...(rs.find((r) => r.skipped) ? { skipped: rs.find((r) => r.skipped)!.skipped! } : {}),
    });
    const [p, b] = [side(parley), side(baseline)];
    const ratio = skipped ? null : (p.p99 as number) / (b.p99 as number);
    return {
      workload,
      title: `${settings.subscribers} subs × ${settings.messages} msgs`,
      parley: p,
      baseline: b,
      ratio,
      target: 'p99 ≤ 3× baseline, 0 lost/dup/ooo, ≤ 30 KiB/sub',
      holds: skipped ? null : ratio! <= 3 && p.errors === 0 && p.rssPerSubscriptionKiB <= 30,
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
  return {
    workload,
    title: WORKLOADS[workload].title,
    parley: p,
    baseline: b,
    ratio,
    target: '≥ 0.5× req/s, 0 errors',
    holds: ratio >= 0.5 && p.errors === 0,
  };
}

function table(summaries: Summary[]): string {
  const header = ['', '', 'Parley', '', '', '', '', 'baseline', '', '', '', '', 'Parley÷baseline', ''];
  const columns = ['workload', '', 'req/s', 'p50', 'p99', 'errors', 'CPU/req', 'req/s', 'p50', 'p99', 'errors', 'CPU/req', 'ratio', 'target'];
  const rows = summaries.map((s) => {
    const flag = s.holds === null ? 'n/a' : s.holds ? 'holds' : 'MISSED';
    if (s.workload === 'W9') {
      const cells = (x: Record<string, number | string>) =>
        x.skipped
          ? ['skipped', '', '', '', '']
          : [`${Math.round(x.postsPerSecond as number)} post/s`, ms(x.postP50 as number), ms(x.postP99 as number), String(x.errors), ms(x.cpuListened as number)];
      const ratio = s.ratio === null ? '-' : `dlv p99 ${s.ratio.toFixed(2)}×`;
      return [`W9 ${s.title}`, '', ...cells(s.parley), ...cells(s.baseline), ratio, flag];
    }
    if (s.workload === 'W7') {
      const cells = (x: Record<string, number | string>) =>
        x.skipped ? ['skipped', '', '', '', ''] : [`${Math.round(x.deliveriesPerSecond as number)}/s`, ms(x.p50 as number), ms(x.p99 as number), String(x.errors), ''];
      const ratio = s.ratio === null ? '-' : `p99 ${s.ratio.toFixed(2)}×`;
      return [`W7 ${s.title}`, '', ...cells(s.parley), ...cells(s.baseline), ratio, flag];
    }
    const cells = (x: Record<string, number | string>) => [
      String(Math.round(x.requestsPerSecond as number)), ms(x.p50 as number), ms(x.p99 as number), String(x.errors), ms(x.serverCpuMsPerRequest as number),
    ];
    return [`${s.workload} ${s.title}`, '', ...cells(s.parley), ...cells(s.baseline), `${s.ratio!.toFixed(2)}×`, flag];
  });
  const all = [header, columns, ...rows];
  const widths = columns.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
  const w7 = summaries.find((s) => s.workload === 'W7' && !s.parley.skipped);
  const notes = w7
    ? [
        `W7 Parley: lost ${w7.parley.lost}, duplicated ${w7.parley.duplicated}, out of order ${w7.parley.outOfOrder}, max ${ms(w7.parley.max as number)}, ` +
          `${(w7.parley.rssPerSubscriptionKiB as number).toFixed(1)} KiB RSS per subscription (baseline ${(w7.baseline.rssPerSubscriptionKiB as number).toFixed(1)} KiB)`,
      ]
    : summaries.filter((s) => s.workload === 'W7').map((s) => `W7 skipped: ${s.parley.skipped ?? s.baseline.skipped}`);
  for (const w9 of summaries.filter((s) => s.workload === 'W9')) {
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

  const byWorkload = new Map<Workload, Record<Target, Measurement[]>>(settings.workloads.map((w) => [w, { parley: [], baseline: [] }]));
  try {
    for (let round = 1; round <= settings.rounds; round += 1) {
      for (const target of TARGETS) {
        for (const result of await measureTarget(target, round, serverUrl, settings)) byWorkload.get(result.workload)![target].push(result);
      }
    }
  } finally {
    await embedded?.stop();
  }

  const summaries = settings.workloads.map((w) => summarize(w, byWorkload.get(w)!, settings));
  console.log(`\n${table(summaries)}`);
  const file = join(RESULTS, `${new Date().toISOString().replace(/[:.]/g, '-')}${settings.quick ? '-quick' : ''}.json`);
  await writeFile(file, JSON.stringify({ machine: about, settings, summaries, raw: Object.fromEntries(byWorkload) }, null, 2));
  console.log(`\nresults: ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
