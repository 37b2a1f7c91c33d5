import { ChatDocument, PostMessageDocument, StartChatDocument } from './generated/graphql';
import { Client } from 'pg';
import { loadConfig } from '../src/config';
import { dataOf, graphql, startTestApp, type TestApp } from '../src/testing/harness';

describe('configuration', () => {
  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ DATABASE_URL: 'not a url' }, /DATABASE_URL/],
    [{ NODE_ENV: 'production' }, /DATABASE_URL: is required when NODE_ENV=production/],
    [{ GRAPHQL_INTROSPECTION: 'maybe' }, /GRAPHQL_INTROSPECTION/],
  ])('refuses %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('defaults to development with port 4000, introspection and landing page on, any CORS origin', () => {
    expect(loadConfig({})).toMatchObject({ production: false, port: 4000, introspection: true, landingPage: true, corsOrigins: true });
  });
});

describe('in development', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers /healthz and /readyz', async () => {
    const base = t.url.replace('/graphql', '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok' });
  });

  it('shows the Apollo Sandbox landing page to a browser', async () => {
    const response = await fetch(t.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/sandbox/i);
  });

  it('allows any origin and tags every response with a request id', async () => {
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://localhost:5173', 'x-request-id': 'req-123' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(response.headers.get('x-request-id')).toBe('req-123');
  });

  it('on close, answers the mutations in flight, and stores nothing it did not acknowledge', async () => {
    const other = await startTestApp({ DB_POOL_SIZE: '5' });
    const chatId = dataOf(await other.request(StartChatDocument, {})).startChat.id;
    const posts = Array.from({ length: 50 }, (_, i) =>
      other.request(PostMessageDocument, { input: { chatId, sender: 's', text: `m${i}` } }),
    );
    await Promise.race(posts);
    await other.app.close();
    const settled = await Promise.allSettled(posts);
    const answers = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const acknowledged = answers.filter((r) => r.data).map((r) => dataOf(r).postMessage.seq);
    const turnedAway = answers.filter((r) => !r.data);
    expect(turnedAway.map((r) => [r.status, r.errors?.[0]?.extensions?.code])).toEqual(turnedAway.map(() => [503, 'SERVICE_UNAVAILABLE']));
    const dropped = settled.flatMap((r) => (r.status === 'rejected' ? [String(r.reason?.cause ?? r.reason)] : []));
    expect(dropped.filter((reason) => !/closed|ECONNRESET|ECONNREFUSED|socket/i.test(reason))).toEqual([]);
    expect(turnedAway.length + dropped.length).toBeGreaterThan(0); // the close cut posts off: the checks above saw some
    const db = new Client({ connectionString: other.database.url });
    await db.connect();
    const { rows } = await db.query('select seq from message where chat_id = $1 order by seq', [chatId]);
    await db.end();
    await other.database.drop();
    expect(acknowledged.length).toBeGreaterThan(1);
    expect(rows.map((r) => r.seq)).toEqual(acknowledged.sort((a, b) => a - b));
  });
});

describe('in production', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example.com' });
  });
  afterAll(() => t.close());

  it('refuses introspection', async () => {
    const response = await graphql(t.url, '{ __schema { queryType { name } } }');
    expect(response.errors?.[0]?.message).toMatch(/introspection/i);
  });

  it('has no landing page: a browser opening the URL gets a JSON client error', async () => {
    const response = await fetch(t.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.text()).not.toMatch(/sandbox/i);
  });

  it('puts no stack trace in any error', async () => {
    const responses = [
      await t.request(ChatDocument, { id: 'nope' }),
      await graphql(t.url, '{ chat(id: "x") { nonsense } }'),
      await graphql(t.url, '{ chat(id: '),
    ];
    for (const response of responses) {
      expect(response.errors?.length).toBeGreaterThan(0);
      expect(JSON.stringify(response.errors)).not.toMatch(/stacktrace|\.ts:\d+|at .*\(/);
    }
  });

  it('allows only the configured origins', async () => {
    const preflight = (origin: string) =>
      fetch(t.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    expect((await preflight('https://app.example.com')).headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect((await preflight('https://evil.example.com')).headers.get('access-control-allow-origin')).toBeNull();
  });
});
