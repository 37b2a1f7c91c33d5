/**
 * The load process for W10, many small chats: every member of the seeded 2,000 five-member chats follows its chat
 * (`messageAdded`) on a socket of its own (10,000 sockets, a token each), while posts go out at R/s spread over the
 * chats in turn, each by one of the chat's members. Reports delivery latency (post sent → message received), lost /
 * duplicated / out-of-order deliveries, the server's resident memory per socket and its CPU per post. Prints one
 * JSON line (a `RoomsResult`).
 *
 *   BENCH_AUTH_SECRET=... node dist/bench/rooms.js --url http://127.0.0.1:4100/graphql --pid 1234 --rate 200 --seconds 10
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuMs, follow, type Follower, now, percentile, post, rssBytes } from './clients';
import { DATA, roomChat, roomMember, Tokens } from './workloads';

export interface RoomsResult {
  workload: 'W10';
  skipped?: string;
  sockets: number;
  rooms: number;
  posts: number;
  postsPerSecond: number;
  deliveries: number;
  p50: number;
  p99: number;
  max: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  wrongShape: number;
  failedPosts: number;
  /** Why the first failed post failed. */
  failure?: string;
  rssPerSocketKiB: number;
  /** The server's CPU time while posting and delivering the measured posts, per post. */
  serverCpuMsPerPost: number;
}

/** The soft limit on open files of a process (each socket is one, on either side). */
function openFilesLimit(pid: number | 'self'): number {
  const limit = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1];
  return limit === undefined || limit === 'unlimited' ? Infinity : Number(limit);
}

async function run(options: { url: string; pid: number; rooms: number; rate: number; seconds: number }): Promise<RoomsResult> {
  const { url, pid, rooms, rate } = options;
  const size = DATA.roomSize;
  const sockets = rooms * size;
  const posts = Math.round(rate * options.seconds);
  const result: RoomsResult = {
    workload: 'W10', sockets, rooms, posts, postsPerSecond: 0, deliveries: 0, p50: 0, p99: 0, max: 0, lost: 0, duplicated: 0, outOfOrder: 0,
    wrongShape: 0, failedPosts: 0, rssPerSocketKiB: 0, serverCpuMsPerPost: 0,
  };
  const needed = sockets + 100;
  const limits = { load: openFilesLimit('self'), server: openFilesLimit(pid) };
  if (limits.load < needed || limits.server < needed) {
    return { ...result, skipped: `open files limit too low for ${sockets} sockets (load ${limits.load}, server ${limits.server}; raise ulimit -n)` };
  }
  const tokens = new Tokens();
  await tokens.prepare(Array.from({ length: rooms }, (_, r) => Array.from({ length: size }, (__, k) => roomMember(r, k))).flat());
  const sentAt: number[] = new Array(posts).fill(NaN);
  const latencies: number[] = [];
  const problems = { wrongShape: 0 };

  await sleep(1000); // let the server settle after its start
  const rssBefore = rssBytes(pid);
  // followers[r][k]: member k of room r
  const followers: Follower[][] = [];
  try {
    for (let r = 0; r < rooms; r += 20) {
      const batch = Array.from({ length: Math.min(20, rooms - r) }, (_, b) =>
        Promise.all(Array.from({ length: size }, (__, k) => follow(url.replace(/^http/, 'ws'), tokens.header(roomMember(r + b, k)), roomChat(r + b), sentAt, latencies, problems))),
      );
      followers.push(...(await Promise.all(batch)));
    }
    // A subscription's start is not acknowledged by the protocol: a warm-up post into every room until each socket got one.
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const failure = followers.flat().find((s) => s.failure)?.failure;
      if (failure) throw new Error(failure);
      const waiting = followers.flatMap((room, r) => (room.every((s) => s.live) ? [] : [r]));
      if (waiting.length === 0) break;
      for (let i = 0; i < waiting.length; i += 50) {
        await Promise.all(waiting.slice(i, i + 50).map((r) => Promise.race([post(url, tokens.header(roomMember(r, 0)), roomChat(r), 'warm-up'), sleep(5000)])));
      }
      await sleep(1000);
    }
    if (!followers.flat().every((s) => s.live)) throw new Error('not every socket received a warm-up message in 10 rounds');
  } catch (error) {
    followers.flat().forEach((s) => void s.client.dispose());
    return { ...result, skipped: `messageAdded did not work: ${(error as Error).message}` };
  }
  await sleep(500);
  result.rssPerSocketKiB = (rssBytes(pid) - rssBefore) / sockets / 1024;

  // Post i goes to room i mod rooms, by its members in turn.
  const roomOf = (i: number) => i % rooms;
  const failed = new Set<number>();
  let failure: string | undefined;
  const cpuBefore = cpuMs(pid);
  const started = now();
  const sending: Promise<unknown>[] = [];
  for (let i = 0; i < posts; i += 1) {
    const due = started + (i * 1000) / rate;
    if (due > now()) await sleep(due - now());
    sentAt[i] = now();
    const r = roomOf(i);
    sending.push(
      post(url, tokens.header(roomMember(r, Math.floor(i / rooms) % size)), roomChat(r), `m-${i}`).catch((error) => {
        failed.add(i);
        failure ??= String((error as Error)?.message ?? error).slice(0, 300);
      }),
    );
  }
  await Promise.all(sending);
  const expected = (posts - failed.size) * size;
  for (let waited = 0; waited < 10_000 && latencies.length < expected; waited += 50) await sleep(50);
  const elapsed = (now() - started) / 1000;
  result.serverCpuMsPerPost = (cpuMs(pid) - cpuBefore) / posts;
  await Promise.all(followers.flat().map((s) => s.client.dispose()));

  followers.forEach((room, r) => {
    const wanted = Array.from({ length: posts }, (_, i) => i).filter((i) => roomOf(i) === r && !failed.has(i));
    for (const s of room) {
      const got = new Set(s.received.map((x) => x.index));
      result.duplicated += s.received.length - got.size;
      result.lost += wanted.filter((i) => !got.has(i)).length;
      result.wrongShape += s.received.filter((x) => roomOf(x.index) !== r).length; // another room's message
      result.outOfOrder += s.outOfOrder;
    }
  });
  const sorted = latencies.sort((a, b) => a - b);
  return {
    ...result,
    postsPerSecond: (posts - failed.size) / elapsed,
    deliveries: latencies.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? 0,
    wrongShape: result.wrongShape + problems.wrongShape,
    failedPosts: failed.size,
    ...(failure && { failure }),
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      pid: { type: 'string' },
      rooms: { type: 'string', default: String(DATA.rooms) },
      rate: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '10' },
    },
  });
  if (!values.url || !values.pid) throw new Error('usage: rooms.js --url URL --pid SERVER_PID');
  const result = await run({
    url: values.url,
    pid: Number(values.pid),
    rooms: Math.min(DATA.rooms, Number(values.rooms)),
    rate: Number(values.rate),
    seconds: Number(values.seconds),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
