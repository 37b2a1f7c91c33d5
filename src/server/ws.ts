import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Server } from 'node:http';
import { WebSocketServer } from 'ws';
import type { Context } from '../graphql/context';

/** graphql-ws (graphql-transport-ws protocol) on the HTTP server's port and path. */
export function createWebSocketServer(options: {
  httpServer: Server;
  schema: GraphQLSchema;
  context: () => Context;
}): { close(): Promise<void> } {
  const { httpServer, schema, context } = options;
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const cleanup = useServer({ schema, context }, wsServer);
  return { close: async () => cleanup.dispose() };
}
