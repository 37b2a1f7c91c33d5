import type { ApolloServerPlugin } from '@apollo/server';
import type { Request, RequestHandler, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Context } from '../graphql/context';

/** What the request's log line says about its GraphQL operation. */
interface OperationLog {
  operationName?: string;
  operationType?: string;
  errorCodes?: string[];
}

/** A context's log entry. A property, not a WeakMap key: Apollo hands the plugins a shallow copy of the context. */
const ENTRY = Symbol('operation log entry');
type LoggedContext = Context & { [ENTRY]?: OperationLog };

/** Gives a request's context a log entry that operationLogPlugin fills in and the request's log line shows. */
export function logOperation(context: Context, res: Response): Context {
  const entry: OperationLog = {};
  res.locals.graphql = entry;
  return Object.assign(context, { [ENTRY]: entry });
}

/** Records the operation's name and type and the codes of the errors answered (for logOperation's entries). */
export const operationLogPlugin: ApolloServerPlugin<Context> = {
  async requestDidStart({ contextValue }) {
    const entry = (contextValue as LoggedContext)[ENTRY];
    if (!entry) return;
    return {
      async didResolveOperation({ operationName, operation }) {
        entry.operationName = operationName ?? undefined;
        entry.operationType = operation?.operation;
      },
      async willSendResponse({ response }) {
        const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
        if (errors?.length) entry.errorCodes = errors.map((error) => String(error.extensions?.code ?? 'UNKNOWN'));
      },
    };
  },
};

const PROBES = new Set(['/healthz', '/readyz']);
/** The URL as requested: express strips a mount path (/graphql) from req.url while the request is inside it. */
const urlOf = (req: IncomingMessage) => (req as Request).originalUrl ?? req.url ?? '';
const pathOf = (req: IncomingMessage) => urlOf(req).split('?')[0];
const operationOf = (res: ServerResponse): OperationLog | undefined => (res as Response).locals?.graphql;

/**
 * One flat line per request: request id, method, url, status, duration (ms), and for GraphQL the operation and the
 * error codes. No headers. Health probes at debug, 5xx at error (the error itself is logged where it is handled),
 * the rest at info. `npx pino-pretty --singleLine` shows it on one line.
 */
export function requestLogger(logger: Logger, genReqId: (req: IncomingMessage, res: ServerResponse) => string): RequestHandler {
  const fields = (req: IncomingMessage, res: ServerResponse, { responseTime }: { responseTime: number }) => {
    const operation = operationOf(res);
    return {
      method: req.method,
      url: urlOf(req),
      status: res.statusCode,
      responseTime,
      operation: operation?.operationName,
      operationType: operation?.operationType,
      errorCodes: operation?.errorCodes,
    };
  };
  return pinoHttp({
    logger,
    genReqId,
    quietReqLogger: true, // the request's logger carries only its reqId
    quietResLogger: true,
    customLogLevel: (req, res, error) => {
      if (PROBES.has(pathOf(req))) return 'debug';
      return error || res.statusCode >= 500 ? 'error' : 'info';
    },
    customSuccessMessage: (req, res) => summary(req, res),
    customErrorMessage: (req, res) => summary(req, res),
    customSuccessObject: fields,
    customErrorObject: (req, res, _error, values) => fields(req, res, values),
  });
}

/** "POST /graphql 200 mutation Post BAD_USER_INPUT": what a reader sees first. */
function summary(req: IncomingMessage, res: ServerResponse): string {
  const operation = operationOf(res);
  const parts = [req.method, urlOf(req), res.statusCode, operation?.operationType, operation?.operationName, ...(operation?.errorCodes ?? [])];
  return parts.filter((part) => part !== undefined).join(' ');
}
