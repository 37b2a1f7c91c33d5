import type { ApolloServerPlugin } from '@apollo/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
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
/** The entry of a request, for its log line. */
const operations = new WeakMap<FastifyRequest, OperationLog>();

/** Gives a request's context a log entry that operationLogPlugin fills in and the request's log line shows. */
export function logOperation(context: Context, request: FastifyRequest): Context {
  const entry: OperationLog = {};
  operations.set(request, entry);
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

/**
 * One flat line per request, when its response closes (answered or not): request id, method, url, status, duration
 * (ms), and for GraphQL the operation and the error codes. No headers. Health probes at debug, 503 (draining, database
 * away) at warn, other 5xx at error (the error itself is logged where it is handled), the rest at info. `npx pino-pretty --singleLine` shows it on one line.
 */
export function logRequests(app: FastifyInstance, logger: Logger): void {
  const write = (request: FastifyRequest, reply: FastifyReply) => {
    const operation = operations.get(request);
    const status = reply.raw.statusCode;
    const level = PROBES.has(request.url.split('?')[0]) ? 'debug' : status === 503 ? 'warn' : status >= 500 ? 'error' : 'info';
    const fields = {
      reqId: request.id,
      method: request.method,
      url: request.url,
      status,
      responseTime: Math.round(reply.elapsedTime),
      operation: operation?.operationName,
      operationType: operation?.operationType,
      errorCodes: operation?.errorCodes,
    };
    logger[level](fields, summary(fields));
  };
  app.addHook('onRequest', (request, reply, done) => {
    reply.raw.once('close', () => write(request, reply));
    done();
  });
}

/** "POST /graphql 200 mutation Post BAD_USER_INPUT": what a reader sees first. */
function summary(line: { method: string; url: string; status: number; operationType?: string; operation?: string; errorCodes?: string[] }): string {
  const parts = [line.method, line.url, line.status, line.operationType, line.operation, ...(line.errorCodes ?? [])];
  return parts.filter((part) => part !== undefined).join(' ');
}
