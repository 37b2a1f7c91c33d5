import type { ApolloServer } from '@apollo/server';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import fastifyCors from '@fastify/cors';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Config } from '../config';
import type { Context, HttpCredentials } from '../graphql/context';
import type { Limiter } from '../rate-limits/rate-limits';
import { clientIp, type TrustProxy } from './client-ip';
import type { Metrics } from '../metrics/metrics';
import { logOperation, logRequests } from './request-log';
import { registerChatPage } from './web';

export const BODY_LIMIT_BYTES = 100 * 1024;
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/** Answers on `httpServer` (the websocket server shares it, on the same port and path). */
export async function createHttpApp(options: {
  config: Config;
  apollo: ApolloServer<Context>;
  logger: Logger;
  httpServer: Server;
  /** A GraphQL request's context, from what it says about its caller. */
  context: (credentials: HttpCredentials) => Promise<Context>;
  ready: () => Promise<boolean>;
  /** True once shutdown began: requests that arrive now are refused rather than run and never answered. */
  draining: () => boolean;
  /** Requests per client address. */
  limitRequests: Limiter;
  trustProxy: TrustProxy;
  metrics: Metrics;
}): Promise<FastifyInstance> {
  const { config, apollo, logger, httpServer, context, ready, draining, limitRequests, trustProxy, metrics } = options;
  const app = Fastify({
    serverFactory: (handler) => httpServer.on('request', handler),
    trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: requestId,
    // As express routed: /graphql/ and /GraphQL are /graphql.
    routerOptions: { ignoreTrailingSlash: true, caseSensitive: false },
  });
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  if (logger.isLevelEnabled('info')) logRequests(app, logger);
  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  // While draining: 503 and connection: close, so clients retry elsewhere; liveness (/healthz) still answers.
  app.addHook('onRequest', (request, reply, done) => {
    if (!draining() || request.url === '/healthz') return done();
    reply
      .header('connection', 'close')
      .header('retry-after', '1')
      .code(503)
      .send({ errors: [{ message: 'Server is shutting down', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
  });
  // Any other content type reaches Apollo unparsed, which refuses it (CSRF prevention, or a missing body) as before.
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  app.setErrorHandler(jsonErrors(logger));
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ errors: [{ message: `No ${request.method} ${request.url.split('?')[0]} here`, extensions: { code: 'NOT_FOUND' } }] });
  });
  await app.register(fastifyCors, {
    origin: config.corsOrigins === true ? true : [...config.corsOrigins],
    // What the `cors` package did for express: these methods, and an answer to every OPTIONS.
    methods: 'GET,HEAD,PUT,PATCH,POST,DELETE',
    strictPreflight: false,
  });
  // After CORS, so that a browser's page can read the 429. Health probes and scrapes (a load balancer's and Prometheus's
  // few addresses) are not limited.
  app.addHook('onRequest', async (request, reply) => {
    if (PROBES.has(request.routeOptions.url ?? '')) return;
    const wait = await limitRequests(clientIp(request.raw, trustProxy));
    if (!wait) return;
    metrics.errorAnswered('RATE_LIMITED');
    const message = `Too many requests from your address: retry in ${wait} s`;
    return reply.code(429).header('retry-after', String(wait)).send({ errors: [{ message, extensions: { code: 'RATE_LIMITED', retryAfter: wait } }] });
  });
  const probe = { config: { cors: false } };
  app.get('/healthz', probe, async () => ({ status: 'ok' }));
  app.get('/readyz', probe, async (_request, reply) => {
    const ok = await ready();
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'database unavailable' });
  });
  if (config.webChat) {
    await registerChatPage(app, { logger, devAuth: !config.production && config.auth.jwtSecret ? config.auth : undefined });
  }
  // Here unless METRICS_PORT gives it a listener of its own (server/metrics-listener.ts).
  if (config.metricsPort === undefined) {
    app.get('/metrics', probe, async (_request, reply) => reply.type(metrics.contentType).send(await metrics.scrape()));
  }
  const credentials = (request: FastifyRequest): HttpCredentials => ({
    authorization: request.headers.authorization,
    query: ((request.method === 'GET' ? request.query : request.body) as { query?: unknown } | undefined)?.query,
  });
  const graphql = fastifyApolloHandler<Context>(apollo, {
    context: logger.isLevelEnabled('info')
      ? async (request) => logOperation(await context(credentials(request)), request)
      : (request) => context(credentials(request)),
  });
  // Every method: Apollo answers the ones it does not serve with 405, as it did behind express.
  app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], url: '/graphql', handler: graphql });
  await app.ready();
  return app;
}

/**
 * Every response carries an `x-request-id`: the client's when it is a plain token of up to 128 characters, else a new
 * one (a client's id is echoed and logged: an 8 KB or odd one would bloat or break both).
 */
function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}

/** Failures before Apollo, by fastify's (or node's) error code: [status, GraphQL code, message]. */
const KNOWN_ERRORS: Record<string, [number, string, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'BAD_REQUEST', 'Request body is not valid JSON'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'PAYLOAD_TOO_LARGE', `Request body is larger than the limit of ${BODY_LIMIT_BYTES / 1024}kb`],
  // The integration builds the request's URL from its Host header.
  ERR_INVALID_URL: [400, 'BAD_REQUEST', 'Request URL or Host header is not valid'],
};
/** Fastify closes the connection on any body error; these bodies were read whole, so the socket may serve more. */
const BODY_READ = new Set(['FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY']);

/** Body-parser and other non-GraphQL failures, answered as GraphQL-shaped JSON. */
function jsonErrors(logger: Logger) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const fallback = error.statusCode ?? 500;
    const [status, code, message] =
      KNOWN_ERRORS[error.code] ??
      (fallback < 500 ? [fallback, 'BAD_REQUEST', error.message] : [fallback, 'INTERNAL_SERVER_ERROR', 'Internal server error']);
    if (status >= 500) logger.error({ err: error, reqId: request.id }, 'request failed');
    if (BODY_READ.has(error.code)) reply.removeHeader('connection');
    return reply.code(status).send({ errors: [{ message, extensions: { code } }] });
  };
}
