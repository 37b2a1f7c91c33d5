import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { type DocumentNode, getOperationAST, GraphQLError, type GraphQLSchema } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
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
    // Counted by the parser itself instead (Apollo's parseOptions), so that too many tokens is a parse error (400)
    // rather than an exception thrown from armor's plugin (500).
    maxTokens: { enabled: false },
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: production },
  }).protect();
  return { plugins, validationRules };
}

/** Shapes of variables kept per document and operation: more (a client varying page sizes endlessly) are walked afresh. */
const SHAPES_PER_DOCUMENT = 64;

/**
 * Refuses, before execution, an operation that asks for too much work (e.g. a thousand aliased 500-message pages).
 * Variables that do not fit their types are left to graphql-js, which answers them as BAD_USER_INPUT; the
 * complexity estimate needs coerced values, and would otherwise fail first with an error a client cannot act on.
 *
 * The estimate walks the whole document, so it is kept per document (the parsed document Apollo and the websocket
 * server reuse for the same query text), operation and shape of the coerced variables: the numbers (page sizes),
 * booleans (@skip, @include), nulls and list lengths, with every string made empty. The estimators above read
 * nothing else; one that reads a string's value must change `shapeOf`.
 */
export function affordabilityCheck(schema: GraphQLSchema) {
  const costs = new WeakMap<DocumentNode, Map<string, number>>();
  return (query: DocumentNode, variables: Record<string, unknown> = {}, operationName?: string): void => {
    const operation = getOperationAST(query, operationName);
    if (!operation) return;
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables, { maxErrors: 1 });
    if (coerced.errors) return;
    let known = costs.get(query);
    if (!known) costs.set(query, (known = new Map()));
    const key = `${operationName ?? ''}\n${shapeOf(coerced.coerced)}`;
    let complexity = known.get(key);
    if (complexity === undefined) {
      complexity = getComplexity({
        schema,
        query,
        variables: coerced.coerced,
        operationName,
        estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
      });
      if (known.size >= SHAPES_PER_DOCUMENT) known.delete(known.keys().next().value!);
      known.set(key, complexity);
    }
    if (complexity > MAX_COMPLEXITY) {
      throw new GraphQLError(`Query complexity limit of ${MAX_COMPLEXITY} exceeded, found ${complexity}.`, {
        extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } },
      });
    }
  };
}

/** The coerced variables with what the estimate reads (see affordabilityCheck): every string (and date) becomes "". */
const shapeOf = (coerced: Record<string, unknown>) => JSON.stringify(coerced, (_key, value) => (typeof value === 'string' ? '' : value));

/** The checks Apollo runs for HTTP once it knows the operation: no subscriptions (they need a socket), affordable. */
export function operationChecksPlugin(schema: GraphQLSchema): ApolloServerPlugin {
  const assertAffordable = affordabilityCheck(schema);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, operation }) {
          if (operation?.operation === 'subscription') {
            throw new GraphQLError(
              'Subscriptions are served over websockets (graphql-ws, protocol graphql-transport-ws) at this same URL, not over HTTP',
              { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
            );
          }
          assertAffordable(document, request.variables, request.operationName ?? undefined);
        },
      };
    },
  };
}
