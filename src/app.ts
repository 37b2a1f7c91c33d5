import 'reflect-metadata';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import pino, { type DestinationStream, type Logger } from 'pino';
import { Authenticator } from './auth/authenticator';
import type { Config } from './config';
import { initOrm, poolState } from './db/orm';
import { createContext, type HttpCredentials, viewerOf } from './graphql/context';
import { createSchema } from './graphql/schema';
import { Metrics } from './metrics/metrics';
import { MessageSubscriptions } from './modules/message/message.subscription';
import { createAppPubSub } from './pubsub/pubsub';
import { createRateLimits } from './rate-limits/rate-limits';
import { createApolloServer } from './server/apollo';
import { trustProxyOf } from './server/client-ip';
import { createHttpApp } from './server/http';
import { createMetricsListener } from './server/metrics-listener';
import { createWebSocketServer } from './server/ws';

export interface App {
  orm: MikroORM;
  logger: Logger;
  httpServer: Server;
  /**
   * Starts listening on config.port (0 picks a free port), and on config.metricsPort when set, and returns the
   * GraphQL endpoint's URL.
   */
  listen(): Promise<string>;
  /** Where `GET /metrics` answers, once listening. */
  metricsUrl(): string;
  /**
   * Readiness off and new requests answered 503 for config.shutdownGraceMs, then stops accepting, drains in-flight
   * requests and websockets, and closes pub/sub, the database pool and the metrics listener.
   */
  close(): Promise<void>;
}

export interface AppOptions {
  /** Sees every SQL statement (tests count them). */
  onQuery?: (sql: string) => void;
  /** Where log lines go (tests read them); standard output by default. */
  logDestination?: DestinationStream;
}

/** The whole service, wired as in production; main.ts and the tests both start it through here. */
export async function createApp(config: Config & { databaseUrl: string }, options: AppOptions = {}): Promise<App> {
  const logger = pino({ level: config.logLevel }, options.logDestination);
  const orm = await initOrm({ databaseUrl: config.databaseUrl, poolSize: config.dbPoolSize, timeoutMs: config.dbTimeoutMs, onQuery: options.onQuery, logger });
  const metrics = new Metrics(() => poolState(orm));
  const pubSub = createAppPubSub(metrics, config.redisUrl, logger);
  const schema = await createSchema(pubSub.pubSub, metrics, logger);
  const httpServer = createServer();
  const metricsServer = config.metricsPort === undefined ? undefined : createMetricsListener(metrics, logger);
  const authenticator = new Authenticator(config.auth);
  const messageSubscriptions = new MessageSubscriptions(pubSub.pubSub, orm.em, logger, metrics);
  const rateLimits = createRateLimits(config.rateLimits, config.redisUrl, logger);
  const trustProxy = trustProxyOf(config.trustProxy);
  const ws = createWebSocketServer({
    httpServer,
    schema,
    config,
    authenticate: (authorization) => authenticator.authenticate(authorization),
    context: (viewer) => createContext(orm, viewer, rateLimits),
    subscriptionContext: { messageSubscriptions },
    logger,
    limitConnections: rateLimits.connections,
    trustProxy,
    metrics,
  });
  const apollo = createApolloServer({ config, schema, httpServer, drainWebSockets: ws.close, metrics });
  await apollo.start();
  const ready = async () => (await orm.checkConnection()).ok;
  let draining = false;
  const context = async (credentials: HttpCredentials) => createContext(orm, await viewerOf(authenticator, credentials, config.introspection), rateLimits);
  await createHttpApp({ config, apollo, logger, httpServer, ready, context, draining: () => draining, limitRequests: rateLimits.requests, trustProxy, metrics });
  const unanswered = new Set<ServerResponse>();
  httpServer.on('request', (_req, res: ServerResponse) => {
    unanswered.add(res);
    res.once('close', () => unanswered.delete(res));
  });

  return {
    orm,
    logger,
    httpServer,
    listen: async () => {
      const port = await listen(httpServer, config.port, config.host);
      if (metricsServer) await listen(metricsServer, config.metricsPort!, config.host);
      return `http://127.0.0.1:${port}/graphql`;
    },
    metricsUrl: () => `http://127.0.0.1:${((metricsServer ?? httpServer).address() as AddressInfo).port}/metrics`,
    close: async () => {
      draining = true;
      // No socket is left idle for a client to reuse just as the listener closes (a reset, a post in doubt): those
      // answering now close after their answer, requests that arrive now get 503 and `connection: close`, and an idle
      // one is closed by its keep-alive timeout (5 s, which clients are told and honour) within the grace period.
      for (const res of unanswered) if (!res.headersSent) res.setHeader('connection', 'close');
      await delay(config.shutdownGraceMs);
      await apollo.stop();
      await pubSub.close();
      rateLimits.close();
      await orm.close();
      if (metricsServer) await new Promise((resolve) => metricsServer.close(resolve));
      metrics.close();
    },
  };
}

/** Listens on `port` (0 picks a free one) and answers the port it got. */
function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}
