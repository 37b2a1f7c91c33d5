import {
  type DocumentNode,
  type ExecutionArgs,
  getOperationAST,
  GraphQLError,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { withCode } from './errors';
import { affordabilityCheck, armorLimits, MAX_TOKENS } from './limits';

/**
 * What Apollo checks before executing an HTTP request, for websocket operations: token count, validation
 * (graphql-armor, introspection), complexity. Answers the arguments to execute, or the errors to send.
 */
export function operationChecks(schema: GraphQLSchema, options: { production: boolean; introspection: boolean }) {
  const documents = new DocumentCache(schema, [
    ...specifiedRules,
    ...armorLimits(options.production).validationRules,
    ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ]);
  const assertAffordable = affordabilityCheck(schema);
  return (payload: SubscribePayload): ExecutionArgs | readonly GraphQLError[] => {
    const document = documents.get(payload.query);
    if (!('kind' in document)) return document;
    if (!getOperationAST(document, payload.operationName)) {
      const named = payload.operationName ? `no operation named "${payload.operationName}"` : 'several operations and no operationName';
      return [new GraphQLError(`Cannot tell which operation to run: the document has ${named}`, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })];
    }
    const variableValues = payload.variables ?? {};
    try {
      assertAffordable(document, variableValues, payload.operationName ?? undefined);
    } catch (error) {
      return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
    }
    return { schema, document, variableValues, operationName: payload.operationName };
  };
}

export function isSubscription({ document, operationName }: ExecutionArgs): boolean {
  return getOperationAST(document, operationName)?.operation === 'subscription';
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
