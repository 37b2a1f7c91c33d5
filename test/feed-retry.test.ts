import type { Client as WsClient } from 'graphql-ws';
import { Client } from 'pg';
import { MessageAddedDocument, PostMessageDocument, StartChatDocument } from './generated/graphql';
import { FEED_READ_RETRY_LIMIT_MS } from '../src/modules/message/message.subscription';
import { dataOf, startTestApp, type TestApp } from '../src/testing/harness';
import { connect, type Feed, subscribe } from '../src/testing/subscriber';

let t: TestApp;
let admin: Client;
const clients: WsClient[] = [];
beforeAll(async () => {
  t = await startTestApp();
  admin = new Client({ connectionString: t.database.url });
  await admin.connect();
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await admin.end();
  await t.close();
});

/** Ends every connection the app holds to its database (all but the test's own), as a failover would. */
async function terminateAppConnections(spare: number[] = []): Promise<number> {
  const { rowCount } = await admin.query(
    `select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and not (pid = any($1::int[]))`,
    [spare],
  );
  return rowCount ?? 0;
}

/** Posts with a key, repeating the same post until it is answered: one cut off with its connection may have committed. */
async function postSurely(chatId: string, n: number): Promise<number> {
  const input = { chatId, sender: 'poster', text: `message ${n}`, clientMessageId: `post-${n}` };
  for (let attempt = 0; attempt < 50; attempt++) {
    const response = await t.request(PostMessageDocument, { input });
    if (response.data?.postMessage) return response.data.postMessage.seq;
  }
  throw new Error(`post ${n} failed 50 times`);
}

/** Resolves once `count` of the app's queries on the message table wait for the lock the test holds. */
async function readsWaitingForLock(count: number): Promise<void> {
  for (let polls = 0; polls < 1000; polls++) {
    const { rows } = await admin.query(
      `select count(*)::int as waiting from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock' and query like '%from "message"%'`,
    );
    if (rows[0].waiting >= count) return;
  }
  throw new Error(`fewer than ${count} reads waited for the lock`);
}

const seqsOf = (items: readonly { seq: number }[]) => items.map((item) => item.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('a feed whose database read fails', () => {
  it("repeats the read: with the app's connections terminated during reads and between posts, 30 subscribers get every message once, in order, and none is ended", async () => {
    const chatId = dataOf(await t.request(StartChatDocument, {})).startChat.id;
    for (let n = 1; n <= 5; n++) await postSurely(chatId, n);

    // The subscribers' first read (their replay from seq 1) waits for a lock on the message table; then its
    // connection is terminated under it.
    const lock = new Client({ connectionString: t.database.url });
    await lock.connect();
    const feeds: Feed<{ seq: number }>[] = [];
    const ended: unknown[] = [];
    try {
      await lock.query('begin');
      await lock.query('lock table message in access exclusive mode');
      for (let socket = 0; socket < 3; socket++) {
        const client = connect(t.wsUrl);
        clients.push(client);
        for (let i = 0; i < 10; i++) {
          const feed = subscribe(client, MessageAddedDocument, { chatId, afterSeq: 0 }, (data) => data.messageAdded);
          void feed.ended.then((reason) => ended.push(reason));
          feeds.push(feed);
        }
      }
      await readsWaitingForLock(1);
      const { rows } = await lock.query('select pg_backend_pid() as pid');
      expect(await terminateAppConnections([rows[0].pid])).toBeGreaterThan(0);
    } finally {
      await lock.query('commit');
      await lock.end();
    }

    // Live: every post is followed by terminating whatever connections the app holds then.
    const last = 25;
    for (let n = 6; n <= last; n++) {
      const [seq] = await Promise.all([postSurely(chatId, n), terminateAppConnections()]);
      expect(seq).toBe(n);
    }
    await Promise.all(feeds.map((feed) => feed.until((item) => item.seq === last)));
    expect(ended).toEqual([]);
    for (const feed of feeds) expect(seqsOf(feed.items)).toEqual(range(1, last));
  });
});

describe('a feed whose database stays unreachable', () => {
  it(`ends with SERVICE_UNAVAILABLE once its reads have failed for ${FEED_READ_RETRY_LIMIT_MS / 1000} s`, async () => {
    const chatId = dataOf(await t.request(StartChatDocument, {})).startChat.id;
    await postSurely(chatId, 1);
    const url = new URL(t.database.url);
    const database = url.pathname.slice(1);
    url.pathname = '/postgres'; // a database cannot refuse connections from its own sessions' ALTER
    const server = new Client({ connectionString: url.toString() });
    await server.connect();
    const lock = new Client({ connectionString: t.database.url });
    await lock.connect();
    lock.on('error', () => undefined); // terminated below, with the app's connections
    try {
      await lock.query('begin');
      await lock.query('lock table message in access exclusive mode');
      const client = connect(t.wsUrl);
      clients.push(client);
      const feed = subscribe(client, MessageAddedDocument, { chatId, afterSeq: 0 }, (data) => data.messageAdded);
      await readsWaitingForLock(1);
      // From now on the database refuses the app's new connections; the waiting read loses its connection.
      await server.query(`alter database "${database}" with allow_connections false`);
      const down = Date.now();
      await terminateAppConnections();
      const ending = (await feed.ended) as { extensions: { code: string }; message: string }[];
      expect(Date.now() - down).toBeGreaterThanOrEqual(FEED_READ_RETRY_LIMIT_MS);
      expect(feed.items).toEqual([]);
      expect(ending[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      expect(ending[0].message).toMatch(/subscribe again with afterSeq 0/);
    } finally {
      await server.query(`alter database "${database}" with allow_connections true`);
      await server.end();
      await lock.end().catch(() => undefined);
    }
  }, FEED_READ_RETRY_LIMIT_MS + 30_000);
});
