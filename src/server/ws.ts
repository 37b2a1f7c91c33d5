import {
  createSourceEventStream,
  type DocumentNode,
  execute,
  getOperationAST,
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import { CloseCode, type SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Server } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Identity } from '../auth/authenticator';
import type { Viewer } from '../auth/viewer';
import type { Config } from '../config';
import { formatError } from '../graphql/errors';
import { armorLimits, assertAffordable, MAX_TOKENS } from '../graphql/limits';

/** The largest message a client may send, as for an HTTP body; a larger one closes the socket (1009). */
export const WS_MAX_PAYLOAD = 100 * 1024;
/** Ping every socket this often; one that has not answered by the next ping is terminated. */
export const WS_KEEP_ALIVE_MS = 12_000;
/** A client must send `connection_init` this soon after connecting. */
export const WS_CONNECTION_INIT_TIMEOUT_MS = 3_000;
/** On shutdown, a client that has not completed the close handshake by then is cut off (ws itself waits 30 s). */
export const WS_CLOSE_GRACE_MS = 3_000;

/**
 * graphql-ws (graphql-transport-ws protocol) on the HTTP server's port and path, with the limits and error
 * format of HTTP. `context` is called for every query and mutation and for every event of a subscription, so an
 * event's resolvers get their own entity manager and dataloaders. A subscription itself holds only
 * `subscriptionContext`, shared by all: nothing per request is kept alive for as long as a socket listens.
 */
export function createWebSocketServer(options: {
  httpServer: Server;
  schema: GraphQLSchema;
  config: Config;
  /** Verifies the `authorization` of the `connection_init` payload. */
  authenticate: (authorization: string | undefined) => Promise<Identity>;
  context: (viewer: Viewer) => object;
  subscriptionContext: object;
}): { close(): Promise<void> } {
  const { httpServer, schema, config, authenticate, context, subscriptionContext } = options;
  const validationRules = [
    ...specifiedRules,
    ...armorLimits(config.production).validationRules,
    ...(config.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ];
  const toClient = formatForClient(config.production);
  const documents = new DocumentCache(schema, validationRules);
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: WS_MAX_PAYLOAD });
  const cleanup = useServer<Record<string, unknown> | undefined, SocketAuth>(
    {
      schema,
      // A bad or missing token: false closes the socket with 4403 Forbidden.
      onConnect: async ({ connectionParams, extra }) => {
        const identity = await authenticate(authorizationOf(connectionParams)).catch(() => undefined);
        if (!identity) return false;
        extra.viewer = identity.viewer;
        extra.subscriptionContext = { ...subscriptionContext, viewer: identity.viewer };
        closeAtExpiry(extra, identity.expiresAt);
        return true;
      },
      onClose: ({ extra }) => clearTimeout(extra.expiry),
      context: ({ extra }, _id, _payload, args) => (isSubscription(args) ? extra.subscriptionContext! : context(extra.viewer!)),
      connectionInitWaitTimeout: WS_CONNECTION_INIT_TIMEOUT_MS,
      onSubscribe: (_ctx, _id, payload) => checkOperation(schema, documents, payload),
      subscribe: (args) => subscribe(args, context),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map(toClient) } : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.flatMap(unwrapSubscribeErrors).map(toClient),
    },
    wsServer,
    WS_KEEP_ALIVE_MS,
  );
  return {
    close: async () => {
      const cutOff = setTimeout(() => wsServer.clients.forEach((socket) => socket.terminate()), WS_CLOSE_GRACE_MS);
      await cleanup.dispose();
      clearTimeout(cutOff);
    },
  };
}

/** What onConnect learns from a socket's token; `subscriptionContext` is built once per socket, not per subscription. */
interface SocketAuth extends Record<PropertyKey, unknown> {
  viewer: Viewer;
  subscriptionContext: { viewer: Viewer };
  expiry: NodeJS.Timeout;
}

/** The `authorization` of a connection_init payload, whatever the case of its key (Apollo Sandbox, GraphQLWsLink). */
function authorizationOf(params: Record<string, unknown> | undefined): string | undefined {
  const key = Object.keys(params ?? {}).find((k) => k.toLowerCase() === 'authorization');
  const value = key ? params![key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** setTimeout fires at once beyond this (about 24.8 days); a longer-lived token waits in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Closes the socket with 4403 when its token expires; the client reconnects with a fresh one. */
function closeAtExpiry(extra: { socket: WebSocket } & Partial<SocketAuth>, expiresAt: number): void {
  const wait = expiresAt - Date.now();
  extra.expiry = setTimeout(
    () => (wait > MAX_TIMER_MS ? closeAtExpiry(extra, expiresAt) : extra.socket.close(CloseCode.Forbidden, 'Forbidden')),
    Math.min(wait, MAX_TIMER_MS),
  );
}

/**
 * Parsed and validated documents by query text, as Apollo keeps them for HTTP: a thousand sockets subscribing with
 * the same query share one syntax tree (memory per subscription) and validate it once (CPU per subscribe).
 */
class DocumentCache {
  private static readonly SIZE = 500;
  private readonly valid = new Map<string, DocumentNode>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly rules: typeof specifiedRules,
  ) {}

  get(query: string): DocumentNode | readonly GraphQLError[] {
    const cached = this.valid.get(query);
    if (cached) return cached;
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: MAX_TOKENS });
    } catch (error) {
      return [withCode(error as GraphQLError, 'GRAPHQL_PARSE_FAILED')];
    }
    const invalid = validate(this.schema, document, this.rules);
    if (invalid.length > 0) return invalid.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED'));
    if (this.valid.size >= DocumentCache.SIZE) this.valid.delete(this.valid.keys().next().value!);
    this.valid.set(query, document);
    return document;
  }
}

/** What Apollo checks before executing an HTTP request: token count, validation (graphql-armor, introspection), complexity. */
function checkOperation(
  schema: GraphQLSchema,
  documents: DocumentCache,
  payload: SubscribePayload,
): ExecutionArgs | readonly GraphQLError[] {
  const document = documents.get(payload.query);
  if (!('kind' in document)) return document;
  const variableValues = payload.variables ?? {};
  try {
    assertAffordable(schema, document, variableValues, payload.operationName ?? undefined);
  } catch (error) {
    return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
  }
  return { schema, document, variableValues, operationName: payload.operationName };
}

/**
 * Results by event and operation. Subscribers of one chat at one position share the database read, so they get the
 * same message objects; with the same operation they then share one execution too, instead of one per subscriber.
 */
const executions = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

function executeShared(args: ExecutionArgs, key: string, event: object, context: () => object): Promise<ExecutionResult> {
  let byOperation = executions.get(event);
  if (!byOperation) executions.set(event, (byOperation = new Map()));
  let result = byOperation.get(key);
  if (!result) {
    result = Promise.resolve(execute({ ...args, rootValue: event, contextValue: context() }));
    byOperation.set(key, result);
  }
  return result;
}

/**
 * graphql-js's subscribe, except that each event runs with a context of its own (for the socket's viewer), and that
 * a subscription which cannot start (bad arguments, unknown chat) ends in a protocol `error` message rather than a
 * `next` with errors.
 */
async function subscribe(args: ExecutionArgs, context: (viewer: Viewer) => object) {
  const stream = await createSourceEventStream(args);
  if (!isAsyncIterable(stream)) return failing(stream.errors ?? []);
  const source = stream[Symbol.asyncIterator]();
  const { viewer } = args.contextValue as SocketAuth['subscriptionContext'];
  // Executions are shared per viewer: what one caller may see of an event is not what another may.
  const operationKey = JSON.stringify([viewer.userId, viewer.service, args.document.loc?.source.body, args.operationName, args.variableValues]);
  const events: AsyncIterableIterator<ExecutionResult> = {
    next: async () => {
      const event = await source.next();
      if (event.done) return event;
      return { done: false, value: await executeShared(args, operationKey, event.value as object, () => context(viewer)) };
    },
    return: async () => {
      await source.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => events,
  };
  return events;
}

/** Thrown by the first `next()` of a subscription that could not start; graphql-ws sends it as an `error` message. */
class SubscribeErrors extends Error {
  constructor(readonly errors: readonly GraphQLError[]) {
    super(errors.map((error) => error.message).join('; '));
  }
}

function failing(errors: readonly GraphQLError[]): AsyncIterableIterator<never> {
  const iterator: AsyncIterableIterator<never> = {
    next: () => Promise.reject(new SubscribeErrors(errors)),
    return: async () => ({ done: true, value: undefined }),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

function unwrapSubscribeErrors(error: GraphQLError): readonly GraphQLError[] {
  return error.originalError instanceof SubscribeErrors ? error.originalError.errors : [error];
}

function isSubscription({ document, operationName }: ExecutionArgs): boolean {
  return getOperationAST(document, operationName)?.operation === 'subscription';
}

function isAsyncIterable<T>(value: AsyncIterable<T> | ExecutionResult): value is AsyncIterable<T> {
  return Symbol.asyncIterator in value;
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code } });
}

/**
 * The HTTP formatting (graphql/errors.ts) for websocket errors. Apollo gives every error a code before formatting;
 * here that falls to us: an exception thrown by our code is INTERNAL_SERVER_ERROR, an error graphql-js raises about
 * the request itself (a variable of the wrong type) BAD_USER_INPUT.
 */
function formatForClient(production: boolean) {
  const format = formatError(production);
  return (error: GraphQLError): GraphQLFormattedError => {
    const formatted = error.toJSON();
    const thrown = error.originalError && !(error.originalError instanceof GraphQLError);
    const code = formatted.extensions?.code ?? (thrown ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT');
    return format({ ...formatted, extensions: { ...formatted.extensions, code } }, error);
  };
}
