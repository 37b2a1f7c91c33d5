import { execute, type ExecutionArgs, getOperationAST, GraphQLError, type GraphQLSchema } from 'graphql';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import type { IncomingMessage, Server } from 'node:http';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Identity } from '../auth/authenticator';
import type { Viewer } from '../auth/viewer';
import type { Config } from '../config';
import { formatWebSocketErrors } from '../graphql/errors';
import { isSubscription, operationChecks } from '../graphql/operations';
import { subscribe } from '../graphql/subscribe';
import type { Limiter } from '../rate-limits/rate-limits';
import { clientIp, type TrustProxy } from './client-ip';
import type { Metrics } from '../metrics/metrics';

/** The largest message a client may send, as for an HTTP body; a larger one closes the socket (1009). */
export const WS_MAX_PAYLOAD = 100 * 1024;
/** Ping every socket this often; one that has not answered by the next ping is terminated. */
export const WS_KEEP_ALIVE_MS = 12_000;
/** A client must send `connection_init` this soon after connecting. */
export const WS_CONNECTION_INIT_TIMEOUT_MS = 3_000;
/**
 * Operations one socket may run at once: its open subscriptions and its queries in flight. A subscription counts
 * from its `subscribe` until the server has finished with it, not until the client said `complete`: a subscribe
 * still reading its chat holds a database connection however soon it is completed.
 */
export const WS_MAX_OPERATIONS = 100;
/** Bytes queued for a socket past which a subscription waits for its frames to be written before its next event. */
export const WS_SEND_HIGH_WATER = 64 * 1024;
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
  logger: Logger;
  /** Connection attempts per client address. */
  limitConnections: Limiter;
  trustProxy: TrustProxy;
  metrics: Metrics;
}): { close(): Promise<void> } {
  const { httpServer, schema, config, authenticate, context, subscriptionContext, logger, limitConnections, trustProxy, metrics } = options;
  const checkOperation = operationChecks(schema, config);
  const toClient = formatWebSocketErrors(config.production, metrics);
  // Until answered; a subscription until it started (its first read done), not for as long as it runs.
  const timed = async <T>(args: ExecutionArgs, run: () => T | Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await run();
    } finally {
      metrics.operation(getOperationAST(args.document, args.operationName), (performance.now() - started) / 1000);
    }
  };
  const operations = new WeakMap<object, number>(); // running, per socket (graphql-ws's context of the socket)
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    maxPayload: WS_MAX_PAYLOAD,
    handleProtocols,
    // Refused before the handshake, as plain HTTP: a page on another origin must not drive the API with the user's
    // connection (CORS for the upgrade), and one address may only try so often.
    verifyClient: ({ origin, req }: { origin?: string; req: IncomingMessage }, done: VerifyDone) => {
      if (!originAllowed(config.corsOrigins, origin) && !(config.webChat && sameOrigin(origin, req))) {
        logger.debug({ origin }, 'websocket refused: origin not in CORS_ORIGINS');
        return done(false, 403, 'Forbidden');
      }
      limitConnections(clientIp(req, trustProxy)).then(
        (wait) => (wait ? done(false, 429, 'Too Many Requests', { 'retry-after': String(wait) }) : done(true)),
        (error: unknown) => {
          logger.error({ err: error }, 'websocket connection limit failed');
          done(false, 500, 'Internal Server Error');
        },
      );
    },
  });
  const server = makeServer<Record<string, unknown> | undefined, Extra>({
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
    onSubscribe: (ctx, _id, payload) => {
      const running = operations.get(ctx) ?? 0;
      if (running >= WS_MAX_OPERATIONS) return [tooManyOperations];
      const checked = checkOperation(payload);
      if ('schema' in checked) operations.set(ctx, running + 1);
      return checked;
    },
    // graphql-ws calls onComplete for every operation that got past onSubscribe, however it ended.
    onComplete: (ctx) => void operations.set(ctx, (operations.get(ctx) ?? 1) - 1),
    execute: (args) => timed(args, () => execute(args)),
    subscribe: (args) => timed(args, () => subscribe(args, context, metrics)),
    onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: toClient(result.errors) } : undefined),
    onError: (_ctx, _id, _payload, errors) => toClient(errors),
  });
  wsServer.on('connection', (socket, request) => {
    metrics.websocketOpened();
    socket.once('close', () => metrics.websocketClosed());
    serve(socket, server, logger);
  });
  wsServer.on('error', (error) => logger.error({ err: error }, 'websocket server error'));
  const pinging = keepAlive(wsServer);
  return {
    close: async () => {
      clearInterval(pinging);
      const cutOff = setTimeout(() => wsServer.clients.forEach((socket) => socket.terminate()), WS_CLOSE_GRACE_MS);
      wsServer.clients.forEach((socket) => socket.close(1001, 'Going away')); // ws waits for them to close
      await new Promise<void>((resolve, reject) => wsServer.close((error) => (error ? reject(error) : resolve())));
      clearTimeout(cutOff);
    },
  };
}

/**
 * Pings every socket every WS_KEEP_ALIVE_MS and terminates one that has not answered the ping before: one timer for
 * all sockets rather than one each (bench W7, W10: memory per socket).
 */
function keepAlive(wsServer: WebSocketServer): NodeJS.Timeout {
  const waiting = new WeakSet<WebSocket>();
  wsServer.on('connection', (socket) => socket.on('pong', () => waiting.delete(socket)));
  return setInterval(() => {
    for (const socket of wsServer.clients) {
      if (waiting.has(socket)) {
        socket.terminate();
        continue;
      }
      waiting.add(socket);
      socket.ping();
    }
  }, WS_KEEP_ALIVE_MS);
}

/**
 * One socket, as graphql-ws's own `useServer` serves it, but logging through pino: what a client causes (a frame
 * over the size limit, a malformed frame: ws closes the socket with the fitting code) at debug, one line per
 * socket; only a failure of our own at error. useServer prints a stack trace to the console for each.
 *
 * A subscription's `handle` runs until the subscription ends; the listener passes it the frame as a string and does
 * not wait for it, so that no frame's Buffer stays referenced for that long. The HTTP upgrade request is not kept.
 */
function serve(socket: WebSocket, server: ReturnType<typeof makeServer<Record<string, unknown> | undefined, Extra>>, logger: Logger): void {
  socket.on('error', (error) => logger.debug({ err: error }, 'websocket closed on a client error'));
  const failed = (error: unknown) => {
    logger.error({ err: error }, 'websocket message handling failed');
    socket.close(CloseCode.InternalServerError, 'Internal server error');
  };
  const closed = server.opened(
    {
      protocol: socket.protocol,
      // A socket that went away meanwhile takes no more messages, and that is no failure. A subscription's next event
      // waits for this send only once the socket has WS_SEND_HIGH_WATER bytes queued: a slow client holds back its own
      // subscriptions rather than filling the server's memory, and a fast one costs no wait per message (bench W7).
      send: (data) => {
        if (socket.readyState !== socket.OPEN) return;
        if (socket.bufferedAmount < WS_SEND_HIGH_WATER) return socket.send(data);
        return new Promise((resolve) => socket.send(data, () => resolve()));
      },
      close: (code, reason) => socket.close(code, reason),
      onMessage: (handle) => socket.on('message', (data) => void handle(String(data)).catch(failed)),
    },
    { socket },
  );
  socket.once('close', (code, reason) => void closed(code, String(reason)));
}

type VerifyDone = (allowed: boolean, status?: number, reason?: string, headers?: Record<string, string>) => void;

/** What a socket carries: what onConnect learned from its token (built once per socket). */
interface Extra {
  socket: WebSocket;
  viewer?: Viewer;
  subscriptionContext?: { viewer: Viewer };
  expiry?: NodeJS.Timeout;
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
function closeAtExpiry(extra: Extra, expiresAt: number): void {
  const wait = expiresAt - Date.now();
  extra.expiry = setTimeout(
    () => (wait > MAX_TIMER_MS ? closeAtExpiry(extra, expiresAt) : extra.socket.close(CloseCode.Forbidden, 'Forbidden')),
    Math.min(wait, MAX_TIMER_MS),
  );
}

const tooManyOperations = new GraphQLError(
  `This socket already runs ${WS_MAX_OPERATIONS} operations, the most one socket may: complete a subscription before starting another`,
  { extensions: { code: 'RATE_LIMITED', retryAfter: 1 } },
);

/**
 * The allow-list of HTTP CORS (config.corsOrigins), for websocket upgrades. Browsers always send Origin with one; other
 * clients send none, and CORS does not concern them.
 */
function originAllowed(allowed: Config['corsOrigins'], origin: string | undefined): boolean {
  return allowed === true || origin === undefined || allowed.includes(origin);
}

/** The chat page's own socket: its origin is the host it was served from (only when that page is served). */
function sameOrigin(origin: string | undefined, req: IncomingMessage): boolean {
  return origin !== undefined && URL.canParse(origin) && new URL(origin).host === req.headers.host;
}
