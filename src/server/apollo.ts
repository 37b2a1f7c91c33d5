import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type { GraphQLSchema } from 'graphql';
import type { Server } from 'node:http';
import type { Config } from '../config';
import type { Context } from '../graphql/context';
import { formatError, retryStatusPlugin } from '../graphql/errors';
import { armorLimits, MAX_TOKENS, operationChecksPlugin } from '../graphql/limits';
import type { Metrics } from '../metrics/metrics';
import { operationLogPlugin } from './request-log';

export function createApolloServer(options: {
  config: Config;
  schema: GraphQLSchema;
  httpServer: Server;
  /** Closes the websocket server when Apollo stops, after HTTP is drained. */
  drainWebSockets: () => Promise<void>;
  metrics: Metrics;
}): ApolloServer<Context> {
  const { config, schema, httpServer, drainWebSockets, metrics } = options;
  const armor = armorLimits(config.production);
  const drainSockets: ApolloServerPlugin = {
    async serverWillStart() {
      return { drainServer: drainWebSockets };
    },
  };
  return new ApolloServer<Context>({
    schema,
    introspection: config.introspection,
    // main.ts owns shutdown. Apollo's own handler (on outside NODE_ENV=test) would stop Apollo and re-raise the
    // signal, killing the process (exit 143) before the pool is closed.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: !config.production,
    formatError: formatError(config.production, metrics),
    // Compact JSON: Apollo pretty-prints by default, which doubles the bytes of a list answer.
    stringifyResult: (result) => JSON.stringify(result),
    parseOptions: { maxTokens: MAX_TOKENS },
    validationRules: armor.validationRules,
    plugins: [
      // No @cacheControl hints here, and the default plugin wraps every field's resolver to look for them.
      ApolloServerPluginCacheControlDisabled(),
      ...armor.plugins,
      operationChecksPlugin(schema),
      retryStatusPlugin,
      operationLogPlugin,
      operationMetricsPlugin(metrics),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      drainSockets,
      config.landingPage ? ApolloServerPluginLandingPageLocalDefault({ embed: true }) : ApolloServerPluginLandingPageDisabled(),
    ],
  });
}

/** Times every operation that resolved, from the start of its request until its answer goes out. */
function operationMetricsPlugin(metrics: Metrics): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ operation }) {
          metrics.operation(operation, (performance.now() - started) / 1000);
        },
      };
    },
  };
}
