import { Client as PgClient } from 'pg';
import { InboxUpdatedDocument, PostMessageDocument, StartChatWithDocument } from './generated/graphql';
import { MAX_OPERATION_NAMES } from '../src/metrics/metrics';
import { follow, inboxLive, postMessages, reached, startChat } from '../src/testing/fixtures';
import { dataOf, graphql, startTestApp, type TestApp } from '../src/testing/harness';
import { type Labels, scrape, scrapeUntil } from '../src/testing/metrics';
import { startRedisProxy } from '../src/testing/redis-proxy';
import { connect, subscribe } from '../src/testing/subscriber';

/** How much each sample moved between two scrapes taken around `traffic`. */
async function moved(t: TestApp, traffic: () => Promise<unknown>) {
  const before = await scrape(t.metricsUrl);
  await traffic();
  const after = await scrape(t.metricsUrl);
  return (name: string, labels: Labels = {}) => after.value(name, labels) - before.value(name, labels);
}

const POSTED = 'parley_messages_posted_total';
const ERRORS = 'parley_graphql_errors_total';
const ACTIVE = 'parley_subscriptions_active';
const SOCKETS = 'parley_websocket_connections';
const DELIVERIES = 'parley_message_delivery_delay_seconds_count';

describe('GET /metrics on the main port', () => {
  let t: TestApp;
  // Two connections (the fewest migrating at start needs): three posts held up by a lock show both in use and one waiting.
  beforeAll(async () => void (t = await startTestApp({ DB_POOL_SIZE: '2' })));
  afterAll(() => t.close());

  it('answers without a token, in the Prometheus text format, with the process metrics', async () => {
    const response = await fetch(t.metricsUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
    expect(text).toContain('# TYPE parley_graphql_operation_duration_seconds histogram');
  });

  it('posts count as created, an idempotent retry as replayed; operations and HTTP requests by name and route', async () => {
    const { id: chatId } = await startChat(t);
    const keyed = { chatId, sender: 'poster', text: 'once', clientMessageId: 'retry-1' };
    const delta = await moved(t, async () => {
      await postMessages(t, chatId, 3);
      dataOf(await t.request(PostMessageDocument, { input: keyed }));
      dataOf(await t.request(PostMessageDocument, { input: keyed })); // the retry: the stored message
    });
    expect(delta(POSTED, { result: 'created' })).toBe(4);
    expect(delta(POSTED, { result: 'replayed' })).toBe(1);
    expect(delta('parley_graphql_operation_duration_seconds_count', { type: 'mutation', name: 'PostMessage' })).toBe(5);
    expect(delta('parley_http_request_duration_seconds_count', { method: 'POST', route: '/graphql', status: '200' })).toBe(5);
  });

  it('errors by extensions.code, over HTTP (also a request refused before it runs) and websockets', async () => {
    const client = connect(t.wsUrl);
    const delta = await moved(t, async () => {
      expect((await t.request('{ chat(id: "not-a-uuid") { id } }')).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect((await t.request('{ viewer { userId } }', undefined, { authorization: null })).status).toBe(401);
      const refused = (await follow(client, 'not-a-uuid').ended) as { extensions: { code: string } }[];
      expect(refused[0].extensions.code).toBe('BAD_USER_INPUT');
    });
    await client.dispose();
    expect(delta(ERRORS, { code: 'BAD_USER_INPUT' })).toBe(2);
    expect(delta(ERRORS, { code: 'UNAUTHENTICATED' })).toBe(1);
  });

  it('open sockets and running subscriptions by kind; live deliveries timed, replays not', async () => {
    const alice = connect(t.wsUrl, { token: await t.token('alice') });
    const inbox = subscribe(alice, InboxUpdatedDocument, {}, (data) => data.inboxUpdated);
    await inboxLive(t, 'alice', inbox);
    const { id: chatId } = dataOf(await t.as('alice').request(StartChatWithDocument, { firstMessage: { text: 'replayed' } })).startChat;
    const deliveries = (await scrape(t.metricsUrl)).value(DELIVERIES);
    const feed = follow(alice, chatId, 0);
    await feed.until(reached(1)); // a replay: the subscription is running
    const failed = follow(alice, '00000000-0000-4000-8000-000000000000', 0); // unknown chat: never starts
    await failed.ended;
    dataOf(await t.as('alice').request(PostMessageDocument, { input: { chatId, text: 'live' } }));
    await feed.until(reached(2));

    const during = await scrape(t.metricsUrl);
    expect(during.value(SOCKETS)).toBe(1);
    expect(during.value(ACTIVE, { kind: 'messageAdded' })).toBe(1);
    expect(during.value(ACTIVE, { kind: 'inboxUpdated' })).toBe(1);
    // seq 2 only: recorded once it was sent, when the feed is asked for the next message
    await scrapeUntil(t.metricsUrl, DELIVERIES, {}, (count) => count >= deliveries + 1);
    expect((await scrape(t.metricsUrl)).value(DELIVERIES)).toBe(deliveries + 1);

    feed.stop();
    await scrapeUntil(t.metricsUrl, ACTIVE, { kind: 'messageAdded' }, (active) => active === 0);
    expect((await scrape(t.metricsUrl)).value(ACTIVE, { kind: 'inboxUpdated' })).toBe(1);
    await alice.dispose();
    await scrapeUntil(t.metricsUrl, SOCKETS, {}, (open) => open === 0);
    expect((await scrape(t.metricsUrl)).value(ACTIVE, { kind: 'inboxUpdated' })).toBe(0);
  });

  it('database connections in use and requests waiting for one', async () => {
    const { id: chatId } = await startChat(t);
    const locker = new PgClient({ connectionString: t.database.url });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('select 1 from "chat" where "id" = $1 for update', [chatId]);
      const held = [1, 2, 3].map(() => postMessages(t, chatId, 1)); // two wait for the lock, the third for a connection
      await scrapeUntil(t.metricsUrl, 'parley_db_pool_waiting', {}, (waiting) => waiting === 1);
      expect((await scrape(t.metricsUrl)).value('parley_db_pool_connections', { state: 'used' })).toBe(2);
      await locker.query('commit');
      await Promise.all(held);
    } finally {
      await locker.end();
    }
    const after = await scrape(t.metricsUrl);
    expect(after.value('parley_db_pool_waiting')).toBe(0);
    expect(after.value('parley_db_pool_connections', { state: 'used' })).toBe(0);
    expect(after.value('parley_db_pool_connections', { state: 'free' })).toBe(2);
  });

  it(`operation names past the first ${MAX_OPERATION_NAMES} share the label "other"`, async () => {
    for (let i = 0; i <= MAX_OPERATION_NAMES; i++) dataOf(await t.request(`query Name${i} { viewer { userId } }`));
    const names = (await scrape(t.metricsUrl)).samples('parley_graphql_operation_duration_seconds_count').map((s) => s.labels.name);
    expect(new Set(names.filter((name) => name !== 'anonymous' && name !== 'other')).size).toBe(MAX_OPERATION_NAMES);
    expect(names).toContain('other');
  });
});

describe('METRICS_PORT', () => {
  it('moves /metrics to a listener of its own, closed with the app', async () => {
    const t = await startTestApp({ METRICS_PORT: '0' });
    try {
      expect(new URL(t.metricsUrl).port).not.toBe(new URL(t.url).port);
      expect((await fetch(t.url.replace(/\/graphql$/, '/metrics'))).status).toBe(404);
      await t.request('{ viewer { userId } }');
      const scraped = await scrape(t.metricsUrl);
      expect(scraped.value('parley_http_request_duration_seconds_count', { method: 'POST', route: '/graphql', status: '200' })).toBe(1);
      expect((await fetch(t.metricsUrl.replace(/\/metrics$/, '/graphql'))).status).toBe(404);
    } finally {
      await t.close();
    }
    await expect(fetch(t.metricsUrl)).rejects.toThrow();
  });
});

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) process.stderr.write('REDIS_URL is not set: skipped the pub/sub metrics test (test/metrics.test.ts)\n');

(redisUrl ? describe : describe.skip)('pub/sub metrics over Redis', () => {
  it('a publish Redis cannot take counts as a failure, and as a re-send once Redis is back', async () => {
    const proxy = await startRedisProxy(new URL(redisUrl!));
    const t = await startTestApp({ REDIS_URL: proxy.url });
    try {
      const { id: chatId } = await startChat(t);
      const delta = await moved(t, () => postMessages(t, chatId, 2));
      expect(delta('parley_pubsub_published_total', { topic: 'MESSAGE_ADDED' })).toBe(2);
      expect(delta('parley_pubsub_publish_failures_total', { topic: 'MESSAGE_ADDED' })).toBe(0);

      proxy.cut();
      dataOf(await graphql(t.url, PostMessageDocument, { input: { chatId, sender: 'poster', text: 'while Redis is away' } }));
      await scrapeUntil(t.metricsUrl, 'parley_pubsub_publish_failures_total', { topic: 'MESSAGE_ADDED' }, (failures) => failures === 1);
      expect((await scrape(t.metricsUrl)).value('parley_pubsub_resent_total', { topic: 'MESSAGE_ADDED' })).toBe(0);
      proxy.restore();
      await scrapeUntil(t.metricsUrl, 'parley_pubsub_resent_total', { topic: 'MESSAGE_ADDED' }, (resent) => resent === 1);
    } finally {
      await t.close();
      await proxy.close();
    }
  });
});
