import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { type DocumentNode, GraphQLError, type GraphQLSchema } from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import type { ComplexityEstimatorArgs } from 'graphql-query-complexity';
import { LIMITS } from '../modules/message/message.rules';

export const MAX_DEPTH = 12;
export const MAX_COMPLEXITY = 20_000;
export const MAX_TOKENS = 5000;

/** A page field costs its page size times what is asked of each item (capped: bad sizes fail validation later). */
export function pageComplexity({ args, childComplexity }: ComplexityEstimatorArgs): number {
  const size = args.first ?? args.last ?? LIMITS.defaultPageSize;
  return Math.min(Math.max(size, 1), LIMITS.pageSize) * childComplexity;
}

export function listComplexity({ args, childComplexity }: ComplexityEstimatorArgs): number {
  return Math.max(args.ids?.length ?? 1, 1) * childComplexity;
}

/** Depth, alias, directive and token limits, checked while parsing and validating (graphql-armor). */
export function armorLimits(production: boolean) {
  const { plugins, validationRules } = new ApolloArmor({
    maxDepth: { n: MAX_DEPTH, flattenFragments: true, exposeLimits: true },
    maxAliases: { n: 30, exposeLimits: true },
    maxDirectives: { n: 30, exposeLimits: true },
    maxTokens: { n: MAX_TOKENS, exposeLimits: true },
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: production },
  }).protect();
  return { plugins, validationRules };
}

/** Refuses, before execution, an operation that asks for too much work (e.g. a thousand aliased 500-message pages). */
export function assertAffordable(schema: GraphQLSchema, query: DocumentNode, variables: Record<string, unknown> = {}, operationName?: string) {
  const complexity = getComplexity({
    schema,
    query,
    variables,
    operationName,
    estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
  });
  if (complexity > MAX_COMPLEXITY) {
    throw new GraphQLError(`Query complexity limit of ${MAX_COMPLEXITY} exceeded, found ${complexity}.`, {
      extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } },
    });
  }
}

export const complexityPlugin = (schema: GraphQLSchema): ApolloServerPlugin => ({
  async requestDidStart() {
    return {
      async didResolveOperation({ document, request }) {
        assertAffordable(schema, document, request.variables, request.operationName ?? undefined);
      },
    };
  },
});
