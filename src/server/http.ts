import { expressMiddleware } from '@as-integrations/express5';
import type { ApolloServer } from '@apollo/server';
import cors from 'cors';
import express, { type ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config';
import type { Context, HttpCredentials } from '../graphql/context';
import { logOperation, requestLogger } from './request-log';

export const BODY_LIMIT = '100kb';

export function createHttpApp(options: {
  config: Config;
  apollo: ApolloServer<Context>;
  logger: Logger;
  context: (credentials: HttpCredentials) => Promise<Context>;
  ready: () => Promise<boolean>;
  /** True once shutdown began: requests that arrive now are refused rather than run and never answered. */
  draining: () => boolean;
}): express.Express {
  const { config, apollo, logger, context, ready, draining } = options;
  const logging = logger.isLevelEnabled('info');
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag'); // a hash of every answer, for caching that POST /graphql never gets
  app.use(requestLogging(logger));
  app.use((_req, res, next) => {
    if (!draining()) return next();
    res.set('connection', 'close').status(503).json({ errors: [{ message: 'Server is shutting down', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const ok = await ready();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'database unavailable' });
  });
  app.use(
    '/graphql',
    cors({ origin: config.corsOrigins === true ? true : [...config.corsOrigins] }),
    express.json({ limit: BODY_LIMIT }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const request = await context({ authorization: req.headers.authorization, query: (req.method === 'GET' ? req.query : req.body)?.query });
        return logging ? logOperation(request, res) : request;
      },
    }),
  );
  app.use(jsonErrors);
  return app;
}

/**
 * Every response carries an `x-request-id`: the client's when it is a plain token of up to 128 characters, else a new
 * one (a client's id is echoed and logged: an 8 KB or odd one would bloat or break both).
 */
function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}

/**
 * One log line per request at level info (request-log.ts). Below info there is no line to write, so only the request
 * id is set: pino-http would still serialise every request into a child logger and time its response, a few
 * percent of a small request's CPU (see bench/README.md).
 */
function requestLogging(logger: Logger): express.RequestHandler {
  if (logger.isLevelEnabled('info')) return requestLogger(logger, requestId);
  return (req, res, next) => {
    req.id = requestId(req, res);
    req.log = logger;
    next();
  };
}

/** Body-parser and other non-GraphQL failures, answered as GraphQL-shaped JSON instead of an HTML page. */
const jsonErrors: ErrorRequestHandler = (error, req, res, _next) => {
  const status: number = error.status ?? error.statusCode ?? 500;
  const known: Record<string, [string, string]> = {
    'entity.parse.failed': ['BAD_REQUEST', 'Request body is not valid JSON'],
    'entity.too.large': ['PAYLOAD_TOO_LARGE', `Request body is larger than the limit of ${BODY_LIMIT}`],
  };
  const [code, message] = known[error.type] ?? (status < 500 ? ['BAD_REQUEST', String(error.message)] : ['INTERNAL_SERVER_ERROR', 'Internal server error']);
  if (status >= 500) req.log.error({ err: error, reqId: req.id }, 'request failed');
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
};
