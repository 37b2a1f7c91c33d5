import type { GraphQLFormattedError } from 'graphql';
import { print } from 'graphql';
import type { Client as WsClient } from 'graphql-ws';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Client } from 'pg';
import WebSocket from 'ws';
import { dataOf, startTestApp, type TestApp } from '../src/testing/harness';
import { openRawSocket, type RawSocket } from '../src/testing/raw-socket';
import { connect } from '../src/testing/subscriber';
import { WS_MAX_OPERATIONS } from '../src/server/ws';
import { ChatDocument, MessageAddedDocument, PostMessageDocument, StartChatDocument } from './generated/graphql';

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) process.stderr.write('REDIS_URL is not set: skipped the rate limit tests of two instances sharing Redis (test/rate-limits.test.ts)\n');
const describeWithRedis = redisUrl ? describe : describe.skip;

const apps: TestApp[] = [];
const sockets: WebSocket[] = [];
const wsClients: WsClient[] = [];
async function start(env: NodeJS.ProcessEnv): Promise<TestApp> {
  const t = await startTestApp(env);
  apps.push(t);
  return t;
}
afterEach(async () => {
  sockets.splice(0).forEach((socket) => socket.terminate());
  await Promise.all(wsClients.splice(0).map((client) => client.dispose()));
});
afterAll(() => Promise.all(apps.map((t) => t.close())));

interface Answer {
  status: number;
  retryAfter: string | null;
  data?: Record<string, { id?: string; seq?: number; messageCount?: number } | null> | null;
  errors?: GraphQLFormattedError[];
}

/** A POST over real HTTP, with its status and Retry-After header. `as` is a user id, else the request is a service's. */
async function send(t: TestApp, query: string, variables: object, options: { as?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const token = options.as ? await t.token(options.as) : await t.token('limits-test-service', { service: true });
  const response = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...options.headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), ...((await response.json()) as object) };
}

const START = print(StartChatDocument);
const POST = print(PostMessageDocument);
const VIEWER = '{ viewer { userId service } }';
const sender = (as?: string) => (as ? {} : { sender: 'bot' }); // a service names its sender
const startChat = (t: TestApp, as?: string) => send(t, START, { firstMessage: { text: 'first', ...sender(as) } }, { as });
const post = (t: TestApp, chatId: string, as?: string) => send(t, POST, { input: { chatId, text: 'more', ...sender(as) } }, { as });
const chatIdOf = (answer: Answer) => {
  expect(answer.status).toBe(200);
  return answer.data!.startChat!.id!;
};
const messageCount = async (t: TestApp, chatId: string) => dataOf(await t.request(ChatDocument, { id: chatId })).chat!.messageCount;

/** A refusal as the API promises it: RATE_LIMITED, retryAfter a whole number of seconds within the window. */
function expectRefused(error: GraphQLFormattedError | undefined, windowSeconds: number): number {
  expect(error?.extensions?.code).toBe('RATE_LIMITED');
  const retryAfter = error!.extensions!.retryAfter as number;
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  return retryAfter;
}

/** Expects HTTP 429 with a Retry-After that matches the body's retryAfter. */
function expect429(answer: Answer, windowSeconds: number): void {
  expect(answer.status).toBe(429);
  expect(answer.errors).toHaveLength(1);
  expect(answer.retryAfter).toBe(String(expectRefused(answer.errors![0], windowSeconds)));
}

/** The HTTP status and Retry-After with which a websocket upgrade was refused, or 101 once it is open. */
function upgrade(t: TestApp, headers: Record<string, string> = {}): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(t.wsUrl, 'graphql-transport-ws', { headers });
    sockets.push(socket);
    socket.once('open', () => resolve({ status: 101 }));
    socket.once('unexpected-response', (_request, response) => resolve({ status: response.statusCode!, retryAfter: response.headers['retry-after'] }));
    socket.once('error', reject);
  });
}

/** Runs one operation over a graphql-ws client and resolves with its result. */
function overSocket(client: WsClient, query: string, variables: object): Promise<{ data?: unknown; errors?: GraphQLFormattedError[] }> {
  return new Promise((resolve, reject) => {
    let result: { data?: unknown; errors?: GraphQLFormattedError[] } | undefined;
    client.subscribe({ query, variables: variables as Record<string, unknown> }, {
      next: (value) => void (result = value as typeof result),
      error: reject,
      complete: () => resolve(result!),
    });
  });
}

describe('posts per user and per service', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await start({ RATE_LIMIT_USER_POSTS: '3/60s', RATE_LIMIT_SERVICE_POSTS: '5/60s' });
  });

  it("a user's fourth post in the window is refused with HTTP 429, RATE_LIMITED and retryAfter, and is not stored", async () => {
    const chatId = chatIdOf(await startChat(t, 'ann'));
    for (let i = 0; i < 2; i++) expect((await post(t, chatId, 'ann')).status).toBe(200);
    const refused = await post(t, chatId, 'ann');
    expect429(refused, 60);
    expect(refused.data).toBeNull();
    expect(await messageCount(t, chatId)).toBe(3); // the first message and two posts
  });

  it('startChat counts as a post; every user, and a service, has a budget of its own', async () => {
    for (let i = 0; i < 3; i++) chatIdOf(await startChat(t, 'ben'));
    expect429(await startChat(t, 'ben'), 60);
    const chatId = chatIdOf(await startChat(t, 'cy')); // ben being over the limit does not touch cy
    expect((await post(t, chatId, 'cy')).status).toBe(200);
    const serviceChat = chatIdOf(await startChat(t)); // a service may post 5
    for (let i = 0; i < 4; i++) expect((await post(t, serviceChat)).status).toBe(200);
    expect429(await post(t, serviceChat), 60);
  });

  it('posts over a websocket take from the same budget; a refused one is an error in its result and the socket stays open', async () => {
    const chatId = chatIdOf(await startChat(t, 'dee'));
    expect((await post(t, chatId, 'dee')).status).toBe(200);
    const client = connect(t.wsUrl, { token: await t.token('dee') });
    wsClients.push(client);
    const third = await overSocket(client, POST, { input: { chatId, text: 'over the socket' } });
    expect(third.errors).toBeUndefined();
    const fourth = await overSocket(client, POST, { input: { chatId, text: 'one too many' } });
    expectRefused(fourth.errors?.[0], 60);
    expect(await overSocket(client, VIEWER, {})).toEqual({ data: { viewer: { userId: 'dee', service: false } } });
    expect(await messageCount(t, chatId)).toBe(3);
  });

  it('an operation of two posts whose second is refused answers 200: its first was stored', async () => {
    const chatId = chatIdOf(await startChat(t, 'eve'));
    expect((await post(t, chatId, 'eve')).status).toBe(200);
    const twoPosts = `mutation Two($chatId: ID!) {
      a: postMessage(input: { chatId: $chatId, text: "third" }) { seq }
      b: postMessage(input: { chatId: $chatId, text: "fourth" }) { seq }
    }`;
    const answer = await send(t, twoPosts, { chatId }, { as: 'eve' });
    expect(answer.status).toBe(200);
    expect(answer.retryAfter).toBeNull();
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors![0].path).toEqual(['b']);
    expectRefused(answer.errors![0], 60);
    expect(await messageCount(t, chatId)).toBe(3);
  });
});

describe('requests per client address', () => {
  it('refuses the request past the limit with 429 and a GraphQL-shaped body before it runs; health probes are not limited', async () => {
    const t = await start({ RATE_LIMIT_IP_REQUESTS: '3/60s' });
    const chatId = chatIdOf(await send(t, START, { firstMessage: null }));
    for (let i = 0; i < 2; i++) expect((await send(t, VIEWER, {})).status).toBe(200);
    const refused = await post(t, chatId);
    expect429(refused, 60);
    expect(Object.keys(refused)).toEqual(['status', 'retryAfter', 'errors']);
    // Without TRUST_PROXY, a forwarded-for header changes nothing: the socket's peer is the client.
    expect429(await send(t, VIEWER, {}, { headers: { 'x-forwarded-for': '203.0.113.7' } }), 60);
    const db = new Client({ connectionString: t.database.url });
    await db.connect();
    try {
      expect((await db.query('select count(*)::int as n from message')).rows[0].n).toBe(0);
    } finally {
      await db.end();
    }
    const base = t.url.replace('/graphql', '');
    for (const probe of ['/healthz', '/readyz']) expect((await fetch(`${base}${probe}`)).status).toBe(200);
  });
});

describe('websocket connection attempts per client address', () => {
  it('refuses the upgrade past the limit with HTTP 429 and Retry-After, before it is a websocket; open sockets and HTTP go on', async () => {
    const t = await start({ RATE_LIMIT_IP_CONNECTIONS: '2/60s' });
    const open: RawSocket[] = [];
    for (let i = 0; i < 2; i++) open.push(await openRawSocket(t.wsUrl));
    sockets.push(...open.map(({ socket }) => socket));
    const refused = await upgrade(t);
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    expect(Number.isInteger(Number(refused.retryAfter))).toBe(true);
    for (const socket of open) await socket.roundTrip();
    expect((await send(t, VIEWER, {})).status).toBe(200);
  });
});

describe('TRUST_PROXY', () => {
  it('behind a trusted proxy, HTTP requests and websocket upgrades are counted by the client address in X-Forwarded-For', async () => {
    const t = await start({ RATE_LIMIT_IP_REQUESTS: '2/60s', RATE_LIMIT_IP_CONNECTIONS: '1/60s', TRUST_PROXY: 'loopback' });
    const from = (address: string) => ({ 'x-forwarded-for': address });
    for (let i = 0; i < 2; i++) expect((await send(t, VIEWER, {}, { headers: from('203.0.113.1') })).status).toBe(200);
    expect429(await send(t, VIEWER, {}, { headers: from('203.0.113.1') }), 60);
    expect((await send(t, VIEWER, {}, { headers: from('203.0.113.2') })).status).toBe(200);
    expect((await upgrade(t, from('203.0.113.1'))).status).toBe(101);
    expect((await upgrade(t, from('203.0.113.1'))).status).toBe(429);
    expect((await upgrade(t, from('203.0.113.2'))).status).toBe(101);
  });
});

describe('subscriptions per socket', () => {
  it(`a subscribe past the ${WS_MAX_OPERATIONS} running on one socket is an error message with RATE_LIMITED and retryAfter`, async () => {
    const t = await start({});
    const chatId = dataOf(await t.request(StartChatDocument, {})).startChat.id;
    const ws = await openRawSocket(t.wsUrl);
    sockets.push(ws.socket);
    const query = print(MessageAddedDocument);
    for (let i = 0; i <= WS_MAX_OPERATIONS; i++) ws.send({ id: String(i), type: 'subscribe', payload: { query, variables: { chatId } } });
    await ws.until((frames) => frames.some((frame) => frame.type === 'error'));
    await ws.roundTrip();
    const errors = ws.frames.filter((frame) => frame.type === 'error');
    expect(errors).toHaveLength(1);
    expect((errors[0].payload as GraphQLFormattedError[])[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: 1 });
  });
});

/** A port on which nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describeWithRedis('limits in Redis', () => {
  it("two instances sharing Redis share a user's post budget", async () => {
    const env = { REDIS_URL: redisUrl, RATE_LIMIT_USER_POSTS: '4/60s' };
    const [a, b] = [await start(env), await start(env)];
    const user = `fay-${randomUUID()}`; // the budget outlives this run in Redis
    const onA = chatIdOf(await startChat(a, user));
    const onB = chatIdOf(await startChat(b, user));
    expect((await post(a, onA, user)).status).toBe(200);
    expect((await post(b, onB, user)).status).toBe(200);
    expect429(await post(a, onA, user), 60); // a alone has seen two of the four
  });
});

describe('limits while Redis is unreachable', () => {
  it('counts in memory: posts within the limit succeed, the one past it is refused', async () => {
    const t = await start({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}`, RATE_LIMIT_USER_POSTS: '2/60s' });
    const chatId = chatIdOf(await startChat(t, 'gil'));
    expect((await post(t, chatId, 'gil')).status).toBe(200);
    expect429(await post(t, chatId, 'gil'), 60);
  });
});
