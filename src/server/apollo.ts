import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type { GraphQLSchema } from 'graphql';
import type { Server } from 'node:http';
import type { Config } from '../config';
import type { Context } from '../graphql/context';
import { formatError } from '../graphql/errors';
import { armorLimits, complexityPlugin } from '../graphql/limits';
import { operationLogPlugin } from './request-log';

export function createApolloServer(options: {
  config: Config;
  schema: GraphQLSchema;
  httpServer: Server;
  /** Closes the websocket server when Apollo stops, after HTTP is drained. */
  drainWebSockets: () => Promise<void>;
}): ApolloServer<Context> {
  const { config, schema, httpServer, drainWebSockets } = options;
  const armor = armorLimits(config.production);
  const drainSockets: ApolloServerPlugin = {
    async serverWillStart() {
      return { drainServer: drainWebSockets };
    },
  };
  return new ApolloServer<Context>({
    schema,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: !config.production,
    formatError: formatError(config.production),
    // Compact JSON: Apollo pretty-prints by default, which doubles the bytes of a list answer.
    stringifyResult: (result) => JSON.stringify(result),
    validationRules: armor.validationRules,
    plugins: [
      // No @cacheControl hints here, and the default plugin wraps every field's resolver to look for them.
      ApolloServerPluginCacheControlDisabled(),
      ...armor.plugins,
      complexityPlugin(schema),
      operationLogPlugin,
      ApolloServerPluginDrainHttpServer({ httpServer }),
      drainSockets,
      config.landingPage ? ApolloServerPluginLandingPageLocalDefault({ embed: true }) : ApolloServerPluginLandingPageDisabled(),
    ],
  });
}
