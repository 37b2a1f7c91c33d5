import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Client } from 'graphql-ws';
import Redis from 'ioredis';
import { follow as followOn, postMessages, range, reached, seqsOf, startChat } from '../src/testing/fixtures';
import { createTestDatabase, dataOf, graphql, type TestDatabase } from '../src/testing/harness';
import { startRedisProxy } from '../src/testing/redis-proxy';
import { connect, type Feed, subscribe } from '../src/testing/subscriber';
import { token } from '../src/testing/tokens';
import { MessageAddedDocument, RemoveMembersDocument, StartChatWithDocument } from './generated/graphql';

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) process.stderr.write('REDIS_URL is not set: skipped the multi-instance subscription tests (test/subscriptions-redis.test.ts)\n');
const describeWithRedis = redisUrl ? describe : describe.skip;

interface Instance {
  url: string;
  wsUrl: string;
  stop(): Promise<void>;
}

/** The service as a separate process (src/main.ts), as in production; resolves once it serves. */
async function startInstance(env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: join(__dirname, '..'),
    env: { ...process.env, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stderr!.on('data', (chunk) => output.push(String(chunk)));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`instance exited with ${code}:\n${output.join('')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const logged = parseJson(line);
      if (typeof logged?.url === 'string') resolve(logged.url);
      else if (!logged) output.push(line);
    });
  });
  return { url, wsUrl: url.replace(/^http/, 'ws'), stop: () => stopProcess(child) };
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

async function assertRedisAnswers(url: string): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new Error(`REDIS_URL=${url} is set, but Redis does not answer: ${(error as Error).message}`);
  } finally {
    probe.disconnect();
  }
}

describeWithRedis('messageAdded across instances over Redis (separate processes, one database, one Redis)', () => {
  let database: TestDatabase;
  let proxy: Awaited<ReturnType<typeof startRedisProxy>>;
  let a: Instance; // reaches Redis through the proxy
  let b: Instance;
  const clients: Client[] = [];

  beforeAll(async () => {
    await assertRedisAnswers(redisUrl!);
    database = await createTestDatabase();
    proxy = await startRedisProxy(new URL(redisUrl!));
    [a, b] = await Promise.all([
      startInstance({ DATABASE_URL: database.url, REDIS_URL: proxy.url }),
      startInstance({ DATABASE_URL: database.url, REDIS_URL: redisUrl! }),
    ]);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await proxy?.close();
    await database?.drop();
  });

  const newChat = async (on: Instance) => (await startChat(on)).id;
  const post = (on: Instance, chatId: string, count: number) => postMessages(on, chatId, count);
  const follow = (on: Instance, chatId: string, afterSeq = 0) => {
    const client = connect(on.wsUrl);
    clients.push(client);
    return followOn(client, chatId, afterSeq);
  };
  /** Subscribers that have received seq 1, so they are live: what follows can only reach them through Redis. */
  const liveFollowers = async (chatId: string, on: Instance[]) => {
    const feeds = on.map((instance) => follow(instance, chatId));
    await post(b, chatId, 1);
    await Promise.all(feeds.map((feed) => feed.until(reached(1))));
    return feeds;
  };
  const expectAll = async (feeds: Feed<{ seq: number }>[], last: number) => {
    await Promise.all(feeds.map((feed) => feed.until(reached(last))));
    for (const feed of feeds) expect(seqsOf(feed.items)).toEqual(range(1, last));
  };

  it('subscribers on A receive what is posted on B', async () => {
    const chatId = await newChat(a);
    const feeds = await liveFollowers(chatId, [a, a, a]);
    await post(b, chatId, 30);
    await expectAll(feeds, 31);
  });

  it('posts through A and B at once into one chat reach every subscriber on both, contiguous and in order', async () => {
    const chatId = await newChat(b);
    const feeds = await liveFollowers(chatId, [a, a, a, b, b, b]);
    await Promise.all([post(a, chatId, 60), post(b, chatId, 60), post(a, chatId, 60), post(b, chatId, 60)]);
    await expectAll(feeds, 241);
  });

  it("when A loses Redis its posts still succeed, and once Redis is back every subscriber catches up", async () => {
    const chatId = await newChat(a);
    const feeds = await liveFollowers(chatId, [a, b]);
    proxy.cut();
    await post(b, chatId, 10); // A's subscriber misses these events
    await post(a, chatId, 10); // A cannot publish these
    const joinedDuringOutage = follow(a, chatId, 0);
    await joinedDuringOutage.until(reached(21)); // subscribing needs the database, not Redis
    proxy.restore();
    await expectAll([...feeds, joinedDuringOutage], 21);
    await post(b, chatId, 5);
    await expectAll([...feeds, joinedDuringOutage], 26);
  });

  it("a member removed through B: its messageAdded on A ends with NOT_FOUND within a second", async () => {
    const alice = `Bearer ${await token('alice')}`;
    const start = await graphql(b.url, StartChatWithDocument, { firstMessage: { text: 'hi' }, members: ['bob'] }, { authorization: alice });
    const chatId = dataOf(start).startChat.id;
    const client = connect(a.wsUrl, { token: await token('bob') });
    clients.push(client);
    const feed = subscribe(client, MessageAddedDocument, { chatId, afterSeq: 0 }, (data) => data.messageAdded);
    await feed.until(reached(1));
    const removedAt = Date.now();
    dataOf(await graphql(b.url, RemoveMembersDocument, { chatId, userIds: ['bob'] }, { authorization: alice }));
    const errors = (await feed.ended) as { extensions: { code: string } }[];
    expect(errors.map((e) => e.extensions.code)).toEqual(['NOT_FOUND']);
    expect(Date.now() - removedAt).toBeLessThan(1000);
  });
});
