import { exportJWK, generateKeyPair, jwtVerify, type KeyLike, SignJWT, UnsecuredJWT } from 'jose';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type WebSocket from 'ws';
import { loadConfig } from '../src/config';
import { createTestDatabase, type GraphQLResponse, startTestApp, TEST_JWT_SECRET, type TestApp, token } from '../src/testing/harness';
import { connect, connectWithSocket } from '../src/testing/subscriber';

const VIEWER = '{ viewer { userId service } }';
const secretKey = (secret: string) => new TextEncoder().encode(secret);
const REFUSED = { status: 401, errors: [{ message: 'invalid or expired token', extensions: { code: 'UNAUTHENTICATED' } }] };
const MISSING = { status: 401, errors: [{ message: 'missing token', extensions: { code: 'UNAUTHENTICATED' } }] };

/** A signed HS256 token with exactly the claims given (no defaults). */
const signed = (claims: Record<string, unknown>, secret = TEST_JWT_SECRET, alg = 'HS256') =>
  new SignJWT(claims).setProtectedHeader({ alg }).sign(secretKey(secret));
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const statusAndErrors = ({ status, errors }: GraphQLResponse<unknown>) => ({ status, errors });

describe('over HTTP (development)', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startTestApp()));
  afterAll(() => t.close());

  it('a user token is that user; a token with role "service" is a service', async () => {
    expect((await t.as('alice').request(VIEWER)).data).toEqual({ viewer: { userId: 'alice', service: false } });
    expect((await t.as('billing', { service: true }).request(VIEWER)).data).toEqual({ viewer: { userId: 'billing', service: true } });
    expect((await t.request(VIEWER)).data).toEqual({ viewer: { userId: 'test-service', service: true } });
  });

  it('a request without a token is UNAUTHENTICATED (401)', async () => {
    expect(statusAndErrors(await t.request(VIEWER, undefined, { authorization: null }))).toEqual(MISSING);
    expect(statusAndErrors(await t.request('mutation { startChat { id } }', undefined, { authorization: null }))).toEqual(MISSING);
  });

  it.each<[string, () => Promise<string>]>([
    ['signed with another key', () => signed({ sub: 'alice', exp: inAnHour() }, 'another-secret-of-at-least-32-bytes!!')],
    ['expired', () => token('alice', { expiresIn: -10 })],
    ['unsigned (alg: none)', async () => new UnsecuredJWT({ sub: 'alice', role: 'service', exp: inAnHour() }).encode()],
    ['signed with an algorithm not allowed (HS384)', () => signed({ sub: 'alice', exp: inAnHour() }, TEST_JWT_SECRET, 'HS384')],
    ['without sub', () => signed({ exp: inAnHour() })],
    ['with an empty sub', () => signed({ sub: '', exp: inAnHour() })],
    ['with a sub over 100 characters', () => token('a'.repeat(101))],
    ['without exp', () => signed({ sub: 'alice' })],
    ['not a JWT', async () => 'not.a.jwt'],
  ])('a token %s is UNAUTHENTICATED (401) with no detail', async (_, make) => {
    expect(statusAndErrors(await t.request(VIEWER, undefined, bearer(await make())))).toEqual(REFUSED);
  });

  it('a sub of 100 characters is a user id', async () => {
    expect((await t.request(VIEWER, undefined, bearer(await token('a'.repeat(100))))).data).toEqual({ viewer: { userId: 'a'.repeat(100), service: false } });
  });

  it.each(['Bearer', 'Bearer ', 'Basic YWxpY2U6c2VjcmV0', 'Bearer a b', 'token-without-scheme'])(
    'a malformed Authorization header %j is UNAUTHENTICATED (401)',
    async (authorization) => {
      expect(statusAndErrors(await t.request(VIEWER, undefined, { authorization }))).toEqual(REFUSED);
    },
  );

  it('a bad token fails the whole request, whatever it asks', async () => {
    const forged = await signed({ sub: 'alice', exp: inAnHour() }, 'another-secret-of-at-least-32-bytes!!');
    const answer = await t.request('{ __typename }', undefined, bearer(forged));
    expect(statusAndErrors(answer)).toEqual(REFUSED);
    expect(answer.data).toBeUndefined();
  });

  it('introspection alone needs no token while introspection is on; anything more does', async () => {
    const none = { authorization: null };
    const schema = await t.request('query IntrospectionQuery { __schema { queryType { name } } __type(name: "Chat") { name } }', undefined, none);
    expect(schema).toMatchObject({ status: 200, data: { __schema: { queryType: { name: 'Query' } }, __type: { name: 'Chat' } } });
    expect((await t.request('{ __typename }', undefined, none)).data).toEqual({ __typename: 'Query' });
    expect(statusAndErrors(await t.request('{ __typename viewer { userId } }', undefined, none))).toEqual(MISSING);
    expect(statusAndErrors(await t.request('{ ...F } fragment F on Query { __typename }', undefined, none))).toEqual(MISSING);
    expect(statusAndErrors(await t.request('mutation { __typename }', undefined, none))).toEqual(MISSING);
    expect(statusAndErrors(await t.request('{ __schema', undefined, none))).toEqual(MISSING);
  });
});

describe('over HTTP (production: introspection off)', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startTestApp({ NODE_ENV: 'production' })));
  afterAll(() => t.close());

  it('introspection without a token is UNAUTHENTICATED (401)', async () => {
    expect(statusAndErrors(await t.request('{ __schema { queryType { name } } }', undefined, { authorization: null }))).toEqual(MISSING);
  });

  it('a bad token is UNAUTHENTICATED (401) with no detail', async () => {
    expect(statusAndErrors(await t.request(VIEWER, undefined, bearer(await token('alice', { expiresIn: -10 }))))).toEqual(REFUSED);
  });
});

describe('with AUTH_ISSUER and AUTH_AUDIENCE', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startTestApp({ AUTH_ISSUER: 'https://id.example.com', AUTH_AUDIENCE: 'parley' })));
  afterAll(() => t.close());

  it('accepts a token with both', async () => {
    expect((await t.as('alice').request(VIEWER)).data).toEqual({ viewer: { userId: 'alice', service: false } });
  });

  it.each([
    ['no issuer or audience', {}],
    ['another issuer', { iss: 'https://evil.example.com', aud: 'parley' }],
    ['another audience', { iss: 'https://id.example.com', aud: 'other-api' }],
  ])('refuses a token with %s (401)', async (_, claims) => {
    const jwt = await signed({ sub: 'alice', exp: inAnHour(), ...claims });
    expect(statusAndErrors(await t.request(VIEWER, undefined, bearer(jwt)))).toEqual(REFUSED);
  });
});

describe('with keys from AUTH_JWKS_URL', () => {
  let keys: Server;
  let t: TestApp;
  let privateKey: KeyLike;
  const signedBy = (key: KeyLike, claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(key);

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] });
    keys = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(jwks));
    await new Promise<void>((resolve) => keys.listen(0, '127.0.0.1', resolve));
    t = await startTestApp({ AUTH_JWKS_URL: `http://127.0.0.1:${(keys.address() as AddressInfo).port}/jwks.json` });
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => keys.close(resolve));
  });

  it("accepts a token signed with the identity provider's key", async () => {
    const jwt = await signedBy(privateKey, { sub: 'carol', exp: inAnHour() });
    expect((await t.request(VIEWER, undefined, bearer(jwt))).data).toEqual({ viewer: { userId: 'carol', service: false } });
  });

  it('refuses one signed with another key under the same kid, and an HS256 token (401)', async () => {
    const other = await generateKeyPair('ES256');
    expect(statusAndErrors(await t.request(VIEWER, undefined, bearer(await signedBy(other.privateKey, { sub: 'carol', exp: inAnHour() }))))).toEqual(REFUSED);
    expect(statusAndErrors(await t.request(VIEWER, undefined, bearer(await token('carol'))))).toEqual(REFUSED);
  });
});

describe('over websockets', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startTestApp()));
  afterAll(() => t.close());

  const closeCode = (socket: WebSocket) => new Promise<number>((resolve) => socket.once('close', resolve));
  /** The close code of a client whose connection_init is refused. */
  const refusedWith = (params: Record<string, unknown>) =>
    new Promise<unknown>((resolve) => {
      const client = connect(t.wsUrl, { lazy: false, connectionParams: params, onNonLazyError: () => undefined });
      client.on('closed', (event) => {
        resolve(event);
        void client.dispose();
      });
    });

  it('a socket without a token, or with a bad one, is closed with 4403 at connection_init', async () => {
    const forged = await signed({ sub: 'alice', exp: inAnHour() }, 'another-secret-of-at-least-32-bytes!!');
    for (const params of [{}, { authorization: `Bearer ${forged}` }, { authorization: 'Bearer' }, { authorization: 42 }]) {
      expect(await refusedWith(params)).toMatchObject({ code: 4403 });
    }
  });

  it('takes the token from "authorization" in any case, and runs operations as its viewer', async () => {
    for (const key of ['authorization', 'Authorization', 'AUTHORIZATION']) {
      const client = connect(t.wsUrl, { connectionParams: { [key]: `Bearer ${await t.token('dave')}` } });
      const answer = await new Promise((resolve, reject) => client.subscribe({ query: VIEWER }, { next: resolve, error: reject, complete: () => undefined }));
      expect(answer).toEqual({ data: { viewer: { userId: 'dave', service: false } } });
      await client.dispose();
    }
  });

  it('closes an open socket with 4403 when its token expires, and the token is refused over HTTP from then on', async () => {
    const shortLived = await t.token('erin', { expiresIn: 2 });
    expect((await t.request(VIEWER, undefined, bearer(shortLived))).data).toEqual({ viewer: { userId: 'erin', service: false } });
    const { client, socket } = await connectWithSocket(t.wsUrl, { token: shortLived });
    expect(await closeCode(socket)).toBe(4403);
    await client.dispose();
    // Verified and cached a moment ago; the cache must not outlive the token.
    expect(statusAndErrors(await t.request(VIEWER, undefined, bearer(shortLived)))).toEqual(REFUSED);
  });
});

describe('the process', () => {
  const root = join(__dirname, '..');
  /** Runs src/<script> under ts-node in `cwd`, as `npm start` / `npm run token` would from dist. */
  const tsNode = ['-r', join(root, 'node_modules/ts-node/register/transpile-only')];
  const tsNodeEnv = { PATH: process.env.PATH, TS_NODE_PROJECT: join(root, 'tsconfig.json') };
  const run = (script: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) =>
    spawn(process.execPath, [...tsNode, join(root, 'src', script), ...args], { cwd, env: { ...tsNodeEnv, ...env } });
  const output = (child: ChildProcess) => {
    let text = '';
    child.stdout!.on('data', (chunk) => (text += chunk));
    child.stderr!.on('data', (chunk) => (text += chunk));
    return { text: () => text, exit: new Promise<number | null>((resolve) => child.once('exit', resolve)) };
  };
  /** Resolves once the output matches `pattern` (or fails when the process exits first). */
  const waitFor = (child: ChildProcess, out: ReturnType<typeof output>, pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = out.text().match(pattern);
        if (match) resolve(match);
      };
      check();
      child.stdout!.on('data', check);
      child.once('exit', () => reject(new Error(`exited before ${pattern}: ${out.text()}`)));
    });

  it('refuses to start in production without AUTH_JWT_SECRET or AUTH_JWKS_URL, naming them', async () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgresql://db/parley' })).toThrow(/AUTH_JWT_SECRET.*AUTH_JWKS_URL/);
    const child = run('main.ts', [], root, { NODE_ENV: 'production', DATABASE_URL: 'postgresql://127.0.0.1:1/none' });
    const out = output(child);
    expect(await out.exit).toBe(1);
    expect(out.text()).toMatch(/AUTH_JWT_SECRET.*AUTH_JWKS_URL.*required when NODE_ENV=production/);
  });

  it('refuses a secret shorter than 32 bytes, and both a secret and a key set', () => {
    expect(() => loadConfig({ AUTH_JWT_SECRET: 'short' })).toThrow(/AUTH_JWT_SECRET: must be at least 32 bytes/);
    expect(() => loadConfig({ AUTH_JWT_SECRET: TEST_JWT_SECRET, AUTH_JWKS_URL: 'https://id.example.com/jwks' })).toThrow(/AUTH_JWT_SECRET.*AUTH_JWKS_URL/);
  });

  it('in development makes a secret once, logs ready-to-paste headers, and `npm run token` signs with the same secret', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'parley-dev-'));
    const database = await createTestDatabase();
    const children: ChildProcess[] = [];
    const start = async () => {
      const child = run('main.ts', [], cwd, { NODE_ENV: 'development', DATABASE_URL: database.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
      children.push(child);
      const out = output(child);
      const [, alice] = await waitFor(child, out, /Demo user alice .*?: Authorization: (Bearer [\w.-]+)/);
      const [, service] = await waitFor(child, out, /Service dev-service .*?: Authorization: (Bearer [\w.-]+)/);
      const [, url] = await waitFor(child, out, /serving GraphQL at (http:\/\/\S+?\/graphql)/);
      return { child, out, alice, service, url };
    };
    const ask = async (url: string, authorization: string) =>
      (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify({ query: VIEWER }) })).json();
    try {
      const first = await start();
      const secretFile = join(cwd, '.data', 'auth-secret');
      expect((await stat(secretFile)).mode & 0o777).toBe(0o600);
      const secret = (await readFile(secretFile, 'utf8')).trim();
      expect(Buffer.byteLength(secret)).toBeGreaterThanOrEqual(32);
      expect(await ask(first.url, first.alice)).toEqual({ data: { viewer: { userId: 'alice', service: false } } });
      expect(await ask(first.url, first.service)).toEqual({ data: { viewer: { userId: 'dev-service', service: true } } });
      first.child.kill('SIGTERM');
      await first.out.exit;

      const second = await start();
      expect((await readFile(secretFile, 'utf8')).trim()).toBe(secret);
      expect(await ask(second.url, first.alice)).toEqual({ data: { viewer: { userId: 'alice', service: false } } });

      const { stdout } = await promisify(execFile)(
        process.execPath,
        [...tsNode, join(root, 'src/auth/mint-token.ts'), 'bob', '--service', '--expires', '2h'],
        { cwd, env: tsNodeEnv },
      );
      const minted = stdout.trim();
      const { payload } = await jwtVerify(minted, secretKey(secret));
      expect(payload).toMatchObject({ sub: 'bob', role: 'service' });
      expect(payload.exp! - payload.iat!).toBe(7200);
      expect(await ask(second.url, `Bearer ${minted}`)).toEqual({ data: { viewer: { userId: 'bob', service: true } } });
      second.child.kill('SIGTERM');
      await second.out.exit;
    } finally {
      children.forEach((child) => child.kill('SIGKILL'));
      await database.drop();
    }
  });
});
