/**
 * The load process for W7: N graphql-ws subscribers on one new chat while one publisher posts M messages at R/s.
 * Reports delivery latency (post sent → message received), lost / duplicated / out-of-order deliveries, and the
 * server's resident memory per held subscription. Prints one JSON line (a `FanOutResult`).
 *
 *   node dist/bench/subscriptions.js --url http://127.0.0.1:4100/graphql --pid 1234 --subscribers 1000
 */
import { type Client, createClient } from 'graphql-ws';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { benchAuthorization } from './auth';
import { ADDED_SHAPE, type GraphQLBody, mismatch, OPERATIONS } from './workloads';

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
}

interface Subscriber {
  client: Client;
  /** Receipts of measured messages: message index and seq, in arrival order. */
  received: { index: number; seq: number }[];
  live: boolean;
  /** What the server answered instead of events (e.g. a schema without Subscription.messageAdded). */
  failure?: string;
  lastSeq: number;
  outOfOrder: number;
}

const now = () => performance.now();

const authorization = benchAuthorization();

async function graphql(url: string, body: GraphQLBody): Promise<any> {
  const headers = { 'content-type': 'application/json', authorization: await authorization };
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = (await response.json()) as { data?: any; errors?: unknown[] };
  if (json.errors?.length || !json.data) throw new Error(`HTTP ${response.status}: ${JSON.stringify(json.errors)}`);
  return json.data;
}

const post = (url: string, chatId: string, text: string) =>
  graphql(url, { operationName: 'PostMessage', query: OPERATIONS.PostMessage, variables: { input: { chatId, sender: 'publisher', text } } });

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : 0;
}

/** Subscribes and resolves once the server acknowledged the socket; errors of the subscription land in `failure`. */
function subscribe(wsUrl: string, chatId: string, sentAt: number[], latencies: number[], problems: { wrongShape: number }): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const connectionParams = async () => ({ authorization: await authorization });
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams });
    const subscriber: Subscriber = { client, received: [], live: false, lastSeq: 0, outOfOrder: 0 };
    client.on('connected', () => resolve(subscriber));
    client.subscribe<{ messageAdded: { seq: number; text: string } }>(
      { query: OPERATIONS.MessageAdded, variables: { chatId } },
      {
        next: ({ data, errors }) => {
          const at = now();
          if (errors?.length) {
            subscriber.failure = errors.map((e) => e.message).join('; ');
            return;
          }
          if (mismatch(data, { messageAdded: ADDED_SHAPE })) {
            problems.wrongShape += 1;
            return;
          }
          const { seq, text } = data!.messageAdded;
          if (seq <= subscriber.lastSeq) subscriber.outOfOrder += 1;
          subscriber.lastSeq = Math.max(subscriber.lastSeq, seq);
          subscriber.live = true;
          const index = Number(/^m-(\d+)$/.exec(text)?.[1] ?? -1);
          if (index < 0) return; // a warm-up message
          subscriber.received.push({ index, seq });
          latencies.push(at - sentAt[index]);
        },
        error: (error) => {
          subscriber.failure = Array.isArray(error) ? error.map((e) => e.message).join('; ') : String((error as Error)?.message ?? error);
          reject(new Error(subscriber.failure));
        },
        complete: () => undefined,
      },
    );
  });
}

async function run(options: { url: string; pid: number; subscribers: number; messages: number; rate: number }): Promise<FanOutResult> {
  const { url, pid, messages, rate } = options;
  const wsUrl = url.replace(/^http/, 'ws');
  const { startChat } = await graphql(url, { operationName: 'StartChat', query: OPERATIONS.StartChat, variables: {} });
  const chatId: string = startChat.id;
  const sentAt: number[] = new Array(messages).fill(NaN);
  const latencies: number[] = [];
  const problems = { wrongShape: 0 };
  const empty = { subscribers: options.subscribers, messages, deliveries: 0, deliveriesPerSecond: 0, p50: 0, p99: 0, max: 0, lost: 0, duplicated: 0, outOfOrder: 0, wrongShape: 0, failedPosts: 0, rssPerSubscriptionKiB: 0 };

  await sleep(1000); // let the server settle after its start
  const rssBefore = rssBytes(pid);
  const subscribers: Subscriber[] = [];
  try {
    for (let i = 0; i < options.subscribers; i += 100) {
      const batch = Math.min(100, options.subscribers - i);
      subscribers.push(...(await Promise.all(Array.from({ length: batch }, () => subscribe(wsUrl, chatId, sentAt, latencies, problems)))));
    }
    // A subscription's start is not acknowledged by the protocol: post warm-up messages until every socket got one.
    for (let attempt = 0; attempt < 100 && !subscribers.every((s) => s.live); attempt += 1) {
      const failure = subscribers.find((s) => s.failure)?.failure;
      if (failure) throw new Error(failure);
      await Promise.race([post(url, chatId, 'warm-up'), sleep(5000)]);
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
  const started = now();
  const posts: Promise<unknown>[] = [];
  for (let index = 0; index < messages; index += 1) {
    const due = started + (index * 1000) / rate;
    if (due > now()) await sleep(due - now());
    sentAt[index] = now();
    posts.push(post(url, chatId, `m-${index}`).catch(() => (failedPosts += 1)));
  }
  await Promise.all(posts);
  const expected = options.subscribers * (messages - failedPosts);
  for (let waited = 0; waited < 10_000 && latencies.length < expected; waited += 50) await sleep(50);
  const elapsed = (now() - started) / 1000;
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
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      pid: { type: 'string' },
      subscribers: { type: 'string', default: '1000' },
      messages: { type: 'string', default: '200' },
      rate: { type: 'string', default: '50' },
    },
  });
  if (!values.url || !values.pid) throw new Error('usage: subscriptions.js --url URL --pid SERVER_PID');
  const result = await run({
    url: values.url,
    pid: Number(values.pid),
    subscribers: Number(values.subscribers),
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
