import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type GraphQLFormattedError, print } from 'graphql';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { type App, type AppOptions, createApp } from '../app';
import type { TokenOptions } from '../auth/tokens';
import { loadConfig } from '../config';
import { defaultToken, TEST_JWT_SECRET, token } from './tokens';

export { defaultToken, TEST_JWT_SECRET, token } from './tokens';

export interface RequestOptions {
  /** The `Authorization` header; null sends none. Default: `Bearer <a service token>`. */
  authorization?: string | null;
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

function serverUrl(): string {
  const url = loadConfig(process.env).databaseUrl;
  if (!url) throw new Error('DATABASE_URL is not set: run the tests through jest (its global setup provides one)');
  return url;
}

async function admin<T>(run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database on the test server; `drop` removes it (and ends its connections). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `parley_test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`create database "${name}"`));
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => void (await admin((client) => client.query(`drop database if exists "${name}" with (force)`))),
  };
}

export interface TestApp {
  app: App;
  url: string;
  wsUrl: string;
  /** `GET /metrics`: on the GraphQL port, or on METRICS_PORT's listener when the env sets it. */
  metricsUrl: string;
  database: TestDatabase;
  /** Runs an operation over real HTTP, as a service unless `options` say otherwise. */
  request<R, V>(document: TypedDocumentNode<R, V> | string, variables?: V, options?: RequestOptions): Promise<GraphQLResponse<R>>;
  /**
   * Stops this app and starts a new one on the same port and database: a server restart as clients see it.
   * `whileDown` runs in between (the port refuses connections until it settles).
   */
  restart(whileDown?: () => Promise<void>): Promise<TestApp>;
  /** Runs operations as `userId` (a user unless `options.service`), with a token signed for this app. */
  as(userId: string, options?: TokenOptions): Pick<TestApp, 'request'>;
  /** A token signed for this app (its secret, issuer and audience). */
  token(userId: string, options?: TokenOptions): Promise<string>;
  close(): Promise<void>;
}

export interface GraphQLResponse<R> {
  status: number;
  data?: R | null;
  errors?: GraphQLFormattedError[];
}

const NO_RATE_LIMITS = { RATE_LIMIT_USER_POSTS: '0', RATE_LIMIT_SERVICE_POSTS: '0', RATE_LIMIT_IP_REQUESTS: '0', RATE_LIMIT_IP_CONNECTIONS: '0' };

/** Starts the real app (migrated by its own migrations) on a free port against a fresh database. */
export async function startTestApp(env: NodeJS.ProcessEnv = {}, options: AppOptions = {}): Promise<TestApp> {
  return serve(await createTestDatabase(), env, options);
}

async function serve(database: TestDatabase, env: NodeJS.ProcessEnv, options: AppOptions): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    SHUTDOWN_GRACE_MS: '0',
    // Tests post and connect far faster than people: a test of a rate limit sets it.
    ...NO_RATE_LIMITS,
    ...(env.AUTH_JWKS_URL ? {} : { AUTH_JWT_SECRET: TEST_JWT_SECRET }),
    ...env,
    DATABASE_URL: database.url,
  });
  const app = await createApp({ ...config, databaseUrl: database.url }, options);
  const url = await app.listen();
  let serviceToken: Promise<string> | undefined; // signed for this app's issuer and audience, when first needed
  const asService = async () => `Bearer ${await (serviceToken ??= token('test-service', { service: true, expiresIn: '1d' }, config.auth))}`;
  return {
    app,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    metricsUrl: app.metricsUrl(),
    database,
    request: async (document, variables, requestOptions) =>
      graphql(url, document, variables, { authorization: requestOptions?.authorization === undefined ? await asService() : requestOptions.authorization }),
    as: (userId, tokenOptions) => ({
      request: async (document, variables, requestOptions) =>
        graphql(url, document, variables, { authorization: `Bearer ${await token(userId, tokenOptions, config.auth)}`, ...requestOptions }),
    }),
    token: (userId, tokenOptions) => token(userId, tokenOptions, config.auth),
    restart: async (whileDown) => {
      await app.close();
      await whileDown?.();
      return serve(database, { ...env, PORT: new URL(url).port }, options);
    },
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}

export async function graphql<R, V>(
  url: string,
  document: TypedDocumentNode<R, V> | string,
  variables?: V,
  options: RequestOptions = {},
): Promise<GraphQLResponse<R>> {
  const query = typeof document === 'string' ? document : print(document);
  const authorization = options.authorization === undefined ? `Bearer ${await defaultToken()}` : options.authorization;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization === null ? {} : { authorization }) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<R>, 'status'>;
  return { status: response.status, ...body };
}

/** The data of a response that must have succeeded; fails with the errors otherwise. */
export function dataOf<R>(response: GraphQLResponse<R>): R {
  if (response.errors?.length || !response.data) {
    throw new Error(`GraphQL errors (HTTP ${response.status}): ${JSON.stringify(response.errors)}`);
  }
  return response.data;
}
