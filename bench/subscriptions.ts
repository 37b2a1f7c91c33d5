/**
 * The load process for W7: N graphql-ws subscribers on the seeded 1,000-member chat while one member posts M
 * messages at R/s. Subscriber k is member `w7-<k>` with a token of its own (in a chat each member follows from its
 * own device; see bench/README.md), or one of `--subscriber-users` users. Reports delivery latency (post sent →
 * message received), lost / duplicated / out-of-order deliveries, and the server's resident memory per held
 * subscription. Prints one JSON line (a `FanOutResult`).
 *
 *   BENCH_AUTH_SECRET=... node dist/bench/subscriptions.js --url http://127.0.0.1:4100/graphql --pid 1234 --subscribers 1000
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuMs, follow, type Follower, now, percentile, post, rssBytes } from './clients';
import { crowdMember, DATA, Tokens, W7_CHAT } from './workloads';

export interface FanOutResult {
  workload: 'W7';
  skipped?: string;
  subscribers: number;
  messages: number;
  deliveries: number;
  deliveriesPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  wrongShape: number;
  failedPosts: number;
  rssPerSubscriptionKiB: number;
  /** The server's CPU time while posting and delivering the measured messages, per message posted. */
  serverCpuMsPerPost: number;
}

async function run(options: { url: string; pid: number; subscribers: number; users: number; messages: number; rate: number }): Promise<FanOutResult> {
  const { url, pid, messages, rate } = options;
  const wsUrl = url.replace(/^http/, 'ws');
  const chatId = W7_CHAT;
  const userOf = (k: number) => crowdMember('w7', k % options.users);
  const tokens = new Tokens();
  await tokens.prepare(Array.from({ length: Math.min(options.users, options.subscribers) }, (_, k) => userOf(k)));
  const publisher = tokens.header(userOf(0));
  const sentAt: number[] = new Array(messages).fill(NaN);
  const latencies: number[] = [];
  const problems = { wrongShape: 0 };
  const empty = { subscribers: options.subscribers, messages, deliveries: 0, deliveriesPerSecond: 0, p50: 0, p99: 0, max: 0, lost: 0, duplicated: 0, outOfOrder: 0, wrongShape: 0, failedPosts: 0, rssPerSubscriptionKiB: 0, serverCpuMsPerPost: 0 };

  await sleep(1000); // let the server settle after its start
  const rssBefore = rssBytes(pid);
  const subscribers: Follower[] = [];
  try {
    for (let i = 0; i < options.subscribers; i += 100) {
      const batch = Math.min(100, options.subscribers - i);
      subscribers.push(...(await Promise.all(Array.from({ length: batch }, (_, b) => follow(wsUrl, tokens.header(userOf(i + b)), chatId, sentAt, latencies, problems)))));
    }
    // A subscription's start is not acknowledged by the protocol: post warm-up messages until every socket got one.
    for (let attempt = 0; attempt < 100 && !subscribers.every((s) => s.live); attempt += 1) {
      const failure = subscribers.find((s) => s.failure)?.failure;
      if (failure) throw new Error(failure);
      await Promise.race([post(url, publisher, chatId, 'warm-up'), sleep(5000)]);
      await sleep(100);
    }
    if (!subscribers.every((s) => s.live)) throw new Error('not every subscriber received a warm-up message within 100 posts');
  } catch (error) {
    subscribers.forEach((s) => void s.client.dispose());
    return { workload: 'W7', skipped: `messageAdded did not work: ${(error as Error).message}`, ...empty };
  }
  await sleep(500);
  const rssPerSubscriptionKiB = (rssBytes(pid) - rssBefore) / options.subscribers / 1024;

  let failedPosts = 0;
  const cpuBefore = cpuMs(pid);
  const started = now();
  const posts: Promise<unknown>[] = [];
  for (let index = 0; index < messages; index += 1) {
    const due = started + (index * 1000) / rate;
    if (due > now()) await sleep(due - now());
    sentAt[index] = now();
    posts.push(post(url, publisher, chatId, `m-${index}`).catch(() => (failedPosts += 1)));
  }
  await Promise.all(posts);
  const expected = options.subscribers * (messages - failedPosts);
  for (let waited = 0; waited < 10_000 && latencies.length < expected; waited += 50) await sleep(50);
  const elapsed = (now() - started) / 1000;
  const serverCpuMsPerPost = (cpuMs(pid) - cpuBefore) / messages;
  await Promise.all(subscribers.map((s) => s.client.dispose()));

  let lost = 0;
  let duplicated = 0;
  for (const s of subscribers) {
    const unique = new Set(s.received.map((r) => r.index)).size;
    duplicated += s.received.length - unique;
    lost += messages - failedPosts - unique;
  }
  const sorted = latencies.sort((a, b) => a - b);
  return {
    workload: 'W7',
    subscribers: options.subscribers,
    messages,
    deliveries: latencies.length,
    deliveriesPerSecond: latencies.length / elapsed,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? 0,
    lost,
    duplicated,
    outOfOrder: subscribers.reduce((sum, s) => sum + s.outOfOrder, 0),
    wrongShape: problems.wrongShape,
    failedPosts,
    rssPerSubscriptionKiB,
    serverCpuMsPerPost,
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      pid: { type: 'string' },
      subscribers: { type: 'string', default: '1000' },
      'subscriber-users': { type: 'string' },
      messages: { type: 'string', default: '200' },
      rate: { type: 'string', default: '50' },
    },
  });
  if (!values.url || !values.pid) throw new Error('usage: subscriptions.js --url URL --pid SERVER_PID');
  const result = await run({
    url: values.url,
    pid: Number(values.pid),
    subscribers: Number(values.subscribers),
    users: Math.min(DATA.crowd, Number(values['subscriber-users'] ?? values.subscribers)),
    messages: Number(values.messages),
    rate: Number(values.rate),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
