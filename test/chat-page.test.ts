import { dataOf, graphql, startTestApp, type TestApp } from '../src/testing/harness';
import { upgradeStatus } from '../src/testing/raw-socket';

// The chat page and its development sign-in over plain HTTP; test/chat-page.browser.test.ts uses the page itself.

const VIEWER = '{ viewer { userId service } }';
const origin = (t: TestApp) => new URL(t.url).origin;
const get = (t: TestApp, path: string) => fetch(`${origin(t)}${path}`);
const devToken = (t: TestApp, body: string) =>
  fetch(`${origin(t)}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('in development', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('serves the page, its script and its style from the service, with sign-in by name', async () => {
    const page = await get(t, '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('<body data-dev-sign-in>');
    expect(html).not.toMatch(/https?:\/\//); // nothing from the internet
    for (const [path, type] of [['/app.js', 'text/javascript; charset=utf-8'], ['/style.css', 'text/css; charset=utf-8']]) {
      const file = await get(t, path);
      expect({ path, status: file.status, type: file.headers.get('content-type') }).toEqual({ path, status: 200, type });
    }
    expect((await get(t, '/app.js')).headers.get('cache-control')).toBe('no-cache');
  });

  it('POST /dev/token gives a user token for the name', async () => {
    const response = await devToken(t, JSON.stringify({ userId: 'alice' }));
    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };
    const answer = await graphql<{ viewer: { userId: string; service: boolean } }, undefined>(t.url, VIEWER, undefined, { authorization: `Bearer ${token}` });
    expect(dataOf(answer).viewer).toEqual({ userId: 'alice', service: false });
  });

  it.each([
    ['no userId', '{}'],
    ['an empty userId', '{"userId":""}'],
    ['a userId of 101 characters', JSON.stringify({ userId: 'a'.repeat(101) })],
    ['a userId that is not a string', '{"userId":5}'],
    ['a body that is not JSON', '{"userId":'],
  ])('POST /dev/token refuses %s with 400 and a JSON error', async (_case, body) => {
    const response = await devToken(t, body);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('keeps /graphql, /healthz and /readyz as they were', async () => {
    expect(dataOf(await graphql<{ viewer: { service: boolean } }, undefined>(t.url, VIEWER)).viewer.service).toBe(true);
    expect((await get(t, '/healthz')).status).toBe(200);
    expect((await get(t, '/readyz')).status).toBe(200);
  });
});

describe('in production', () => {
  let t: TestApp;
  afterEach(() => t.close());

  it('has no page and no /dev/token without WEB_CHAT', async () => {
    t = await startTestApp({ NODE_ENV: 'production' });
    expect((await get(t, '/')).status).toBe(404);
    expect((await get(t, '/app.js')).status).toBe(404);
    expect((await devToken(t, '{"userId":"alice"}')).status).toBe(404);
    expect(await upgradeStatus(t.wsUrl, { origin: origin(t) })).toBe(403); // no page of its own: CORS_ORIGINS decides alone
  });

  it('serves the page with WEB_CHAT=true, sign-in by token only, and accepts its own socket', async () => {
    t = await startTestApp({ NODE_ENV: 'production', WEB_CHAT: 'true' });
    const page = await get(t, '/');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<body>');
    expect((await devToken(t, '{"userId":"alice"}')).status).toBe(404);
    expect(await upgradeStatus(t.wsUrl, { origin: origin(t) })).toBe(101);
    expect(await upgradeStatus(t.wsUrl, { origin: 'https://evil.example' })).toBe(403);
  });
});
