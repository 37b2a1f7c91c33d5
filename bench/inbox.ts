/**
 * The load process for W9, the inbox fan-out: posts into the seeded 1,000-member chat while 200 of its members
 * (`inbox-0` … `inbox-199`, each with a token of its own, on a socket of its own) hold `inboxUpdated`. A member who
 * does not listen (`inbox-999`) posts at a fixed rate. Three phases on one server process, each measuring the
 * server's CPU per post:
 *
 *   reference   posts into a 3-member chat (chat 0's owner), no listener: what any post costs at this rate
 *   doorbells   posts into the 1,000-member chat, no listener: + the member lookup and 1,000 publishes
 *   listened    the same with the 200 inbox subscriptions: + delivering the chat's state to 200 sockets
 *
 * Reports post latency, inbox delivery latency (post sent → update received whose lastMessage is that post or a
 * later one), lost deliveries (a subscriber gets one update per post), and prints one JSON line (an `InboxResult`).
 *
 *   BENCH_AUTH_SECRET=... node dist/bench/inbox.js --url http://127.0.0.1:4100/graphql --pid 1234
 */
import { type Client, createClient } from 'graphql-ws';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { cpuMs, percentile, post } from './clients';
import { chatId, crowdMember, DATA, INBOX_CHAT, INBOX_UPDATE_SHAPE, membersOf, mismatch, OPERATIONS, Tokens } from './workloads';

export interface PostPhase {
  posts: number;
  postsPerSecond: number;
  postP50: number;
  postP99: number;
  failedPosts: number;
  serverCpuMsPerPost: number;
}

export interface InboxResult {
  workload: 'W9';
  skipped?: string;
  subscribers: number;
  members: number;
  reference: PostPhase;
  doorbells: PostPhase;
  listened: PostPhase & {
    deliveries: number;
    deliveryP50: number;
    deliveryP99: number;
    deliveryMax: number;
    lost: number;
    extra: number;
    wrongShape: number;
  };
}

const now = () => performance.now();

/** Posts `count` messages `<prefix><i>` at `rate` per second, each sent on time whatever the answers take. */
async function postAtRate(url: string, pid: number, authorization: string, chat: string, prefix: string, count: number, rate: number, sentAt?: number[]) {
  const latencies: number[] = [];
  let failedPosts = 0;
  const cpuBefore = cpuMs(pid);
  const started = now();
  const posts: Promise<unknown>[] = [];
  for (let index = 0; index < count; index += 1) {
    const due = started + (index * 1000) / rate;
    if (due > now()) await sleep(due - now());
    const sent = now();
    if (sentAt) sentAt[index] = sent;
    posts.push(
      post(url, authorization, chat, `${prefix}${index}`).then(
        () => latencies.push(now() - sent),
        () => (failedPosts += 1),
      ),
    );
  }
  await Promise.all(posts);
  const elapsed = (now() - started) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  return {
    posts: count,
    postsPerSecond: latencies.length / elapsed,
    postP50: percentile(sorted, 50),
    postP99: percentile(sorted, 99),
    failedPosts,
    /** Read after the phase's fan-out settled (the caller says when): see `finish`. */
    finish: () => (cpuMs(pid) - cpuBefore) / count,
  };
}

async function settledPhase(phase: Awaited<ReturnType<typeof postAtRate>>): Promise<PostPhase> {
  await sleep(300); // the fan-out runs after each answer; no listener waits for it
  const { finish, ...rest } = phase;
  return { ...rest, serverCpuMsPerPost: finish() };
}

interface Subscriber {
  client: Client;
  /** Updates caused by measured posts (lastMessage `m-<i>`). */
  measured: number;
  live: boolean;
  failure?: string;
}

async function run(options: { url: string; pid: number; subscribers: number; posts: number; rate: number; referencePosts: number; referenceRate: number }) {
  const { url, pid } = options;
  const tokens = new Tokens();
  const listeners = Array.from({ length: options.subscribers }, (_, k) => crowdMember('inbox', k));
  const poster = crowdMember('inbox', DATA.crowd - 1);
  const referencePoster = membersOf(0)[0];
  await tokens.prepare([...listeners, poster, referencePoster]);

  await sleep(1000); // let the server settle after its start
  const reference = await settledPhase(
    await postAtRate(url, pid, tokens.header(referencePoster), chatId(0), 'r-', options.referencePosts, options.referenceRate),
  );
  const doorbells = await settledPhase(
    await postAtRate(url, pid, tokens.header(poster), INBOX_CHAT, 'd-', options.referencePosts, options.referenceRate),
  );

  const sentAt: number[] = new Array(options.posts).fill(NaN);
  const latencies: number[] = [];
  let wrongShape = 0;
  let extra = 0;
  const subscribers: Subscriber[] = [];
  const subscribe = (user: string) =>
    new Promise<Subscriber>((resolve, reject) => {
      const client = createClient({
        url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: { authorization: tokens.header(user) },
      });
      const subscriber: Subscriber = { client, measured: 0, live: false };
      client.on('connected', () => resolve(subscriber));
      client.subscribe<{ inboxUpdated: { chatId: string; reason: string; chat: { unreadCount: number; lastMessage: { text: string } | null } | null } }>(
        { query: OPERATIONS.InboxUpdated },
        {
          next: ({ data, errors }) => {
            const at = now();
            if (errors?.length) return void (subscriber.failure = errors.map((e) => e.message).join('; '));
            const update = data?.inboxUpdated;
            if (mismatch(data, { inboxUpdated: INBOX_UPDATE_SHAPE }) || update!.chatId !== INBOX_CHAT || update!.reason !== 'MESSAGE' || !update!.chat?.lastMessage) {
              wrongShape += 1;
              return;
            }
            subscriber.live = true;
            const index = Number(/^m-(\d+)$/.exec(update!.chat.lastMessage.text)?.[1] ?? -1);
            if (index < 0 || Number.isNaN(sentAt[index])) return; // warm-up, or the doorbell phase's messages
            if (update!.chat.unreadCount < index + 1) wrongShape += 1;
            subscriber.measured += 1;
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
  const empty = { ...doorbells, deliveries: 0, deliveryP50: 0, deliveryP99: 0, deliveryMax: 0, lost: 0, extra: 0, wrongShape: 0 };
  try {
    for (let i = 0; i < listeners.length; i += 100) subscribers.push(...(await Promise.all(listeners.slice(i, i + 100).map(subscribe))));
    // inboxUpdated's start is not acknowledged by the protocol: post warm-up messages until every socket got one.
    for (let attempt = 0; attempt < 100 && !subscribers.every((s) => s.live); attempt += 1) {
      const failure = subscribers.find((s) => s.failure)?.failure;
      if (failure) throw new Error(failure);
      await Promise.race([post(url, tokens.header(poster), INBOX_CHAT, 'warm-up'), sleep(5000)]);
      await sleep(200);
    }
    if (!subscribers.every((s) => s.live)) throw new Error('not every subscriber received a warm-up update within 100 posts');
  } catch (error) {
    subscribers.forEach((s) => void s.client.dispose());
    return { workload: 'W9', skipped: `inboxUpdated did not work: ${(error as Error).message}`, subscribers: options.subscribers, members: DATA.crowd, reference, doorbells, listened: empty };
  }
  await sleep(1000); // warm-up updates still in flight land before the measured posts

  const phase = await postAtRate(url, pid, tokens.header(poster), INBOX_CHAT, 'm-', options.posts, options.rate, sentAt);
  const expected = options.subscribers * (options.posts - phase.failedPosts);
  // A delivery later than 30 s after the last post counts as lost.
  for (let waited = 0; waited < 30_000 && latencies.length < expected; waited += 50) await sleep(50);
  const listenedPhase = await settledPhase(phase);
  await Promise.all(subscribers.map((s) => s.client.dispose()));

  let lost = 0;
  for (const s of subscribers) {
    lost += Math.max(0, options.posts - phase.failedPosts - s.measured);
    extra += Math.max(0, s.measured - (options.posts - phase.failedPosts));
  }
  const sorted = latencies.sort((a, b) => a - b);
  const result: InboxResult = {
    workload: 'W9',
    subscribers: options.subscribers,
    members: DATA.crowd,
    reference,
    doorbells,
    listened: {
      ...listenedPhase,
      deliveries: latencies.length,
      deliveryP50: percentile(sorted, 50),
      deliveryP99: percentile(sorted, 99),
      deliveryMax: sorted.at(-1) ?? 0,
      lost,
      extra,
      wrongShape,
    },
  };
  return result;
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      pid: { type: 'string' },
      subscribers: { type: 'string', default: '200' },
      posts: { type: 'string', default: '50' },
      rate: { type: 'string', default: '5' },
      'reference-posts': { type: 'string', default: '300' },
      'reference-rate': { type: 'string', default: '50' },
    },
  });
  if (!values.url || !values.pid) throw new Error('usage: inbox.js --url URL --pid SERVER_PID');
  const result = await run({
    url: values.url,
    pid: Number(values.pid),
    subscribers: Number(values.subscribers),
    posts: Number(values.posts),
    rate: Number(values.rate),
    referencePosts: Number(values['reference-posts']),
    referenceRate: Number(values['reference-rate']),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
