import {
  createSourceEventStream,
  execute,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLError,
  getNamedType,
  getOperationAST,
  isObjectType,
  Kind,
} from 'graphql';
import type { PromiseOrValue } from 'graphql/jsutils/PromiseOrValue';
import type { Viewer } from '../auth/viewer';
import type { Metrics } from '../metrics/metrics';
import { SubscribeErrors } from './errors';

/**
 * graphql-js's subscribe, except that each event runs with a context of its own, that subscribers of one event
 * share its execution, and that a subscription which cannot start (bad arguments, unknown chat) ends in a protocol
 * `error` message rather than a `next` with errors. A subscription that started counts as active until it ends,
 * however it ends (completed, its source done or failed, the socket closed).
 */
export async function subscribe(args: ExecutionArgs, context: (viewer: Viewer) => object, metrics: Metrics) {
  const stream = await createSourceEventStream(args);
  if (!isAsyncIterable(stream)) return failing(stream.errors ?? []);
  const source = stream[Symbol.asyncIterator]();
  const ended = metrics.subscriptionStarted(rootFieldOf(args));
  const { viewer } = args.contextValue as { viewer: Viewer };
  // Executions are shared per viewer: what one caller may see of an event (its read marker) is not what another may;
  // unless the operation selects only plain properties of the event, which are the same for everyone.
  const who = sameForEveryViewer(args) ? null : [viewer.userId, viewer.service];
  const operationKey = JSON.stringify([who, args.document.loc?.source.body, args.operationName, args.variableValues]);
  const events: AsyncIterableIterator<ExecutionResult> = {
    next: async () => {
      const event = await source.next().catch((error) => {
        ended();
        throw error;
      });
      if (event.done) {
        ended();
        return event;
      }
      return { done: false, value: await executeShared(args, operationKey, event.value as object, () => context(viewer)) };
    },
    return: async () => {
      ended();
      await source.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => events,
  };
  return events;
}

/**
 * Results by event and operation, so that subscribers running the same operation on the same event share one
 * execution instead of one each.
 *
 * Invariant this relies on: the source streams hand every subscriber at one position the very same event objects
 * (MessageSubscriptions shares one database read among them; see message.subscription.ts). Events are the keys of
 * a WeakMap, so an entry lives exactly as long as its event object is held by some subscriber.
 */
const executions = new WeakMap<object, Map<string, PromiseOrValue<ExecutionResult>>>();

function executeShared(args: ExecutionArgs, key: string, event: object, context: () => object): PromiseOrValue<ExecutionResult> {
  let byOperation = executions.get(event);
  if (!byOperation) executions.set(event, (byOperation = new Map()));
  let result = byOperation.get(key);
  if (!result) {
    result = execute({ ...args, rootValue: event, contextValue: context() });
    byOperation.set(key, result);
  }
  return result;
}

/**
 * True when the operation selects, under each root field, only leaf fields without a resolver of their own: plain
 * properties of the event (`messageAdded { id seq text }`), which no viewer changes. Then all subscribers share one
 * execution per event, as before tokens: 1,000 members following a chat cost one execution per message, not 1,000
 * (bench W7). A nested selection (`messageAdded { chat { unreadCount } }`), a fragment, or a field with a resolver
 * makes it per viewer. The root resolvers return their event as it is (messageAdded, inboxUpdated).
 */
export function sameForEveryViewer({ schema, document, operationName }: Pick<ExecutionArgs, 'schema' | 'document' | 'operationName'>): boolean {
  const operation = getOperationAST(document, operationName);
  const roots = schema.getSubscriptionType()?.getFields();
  if (!operation || !roots) return false;
  return operation.selectionSet.selections.every((root) => {
    if (root.kind !== Kind.FIELD || !root.selectionSet) return false;
    const type = getNamedType(roots[root.name.value]?.type);
    if (!isObjectType(type)) return false;
    const fields = type.getFields();
    return root.selectionSet.selections.every(
      (leaf) => leaf.kind === Kind.FIELD && !leaf.selectionSet && (leaf.name.value === '__typename' || (fields[leaf.name.value] !== undefined && !fields[leaf.name.value].resolve)),
    );
  });
}

/** The subscription's root field (messageAdded, inboxUpdated); `other` when it is selected through a fragment. */
function rootFieldOf({ document, operationName }: ExecutionArgs): string {
  const [root] = getOperationAST(document, operationName)?.selectionSet.selections ?? [];
  return root?.kind === Kind.FIELD ? root.name.value : 'other';
}

/** Fails its first `next()` with the errors; graphql-ws sends them as an `error` message. */
function failing(errors: readonly GraphQLError[]): AsyncIterableIterator<never> {
  const iterator: AsyncIterableIterator<never> = {
    next: () => Promise.reject(new SubscribeErrors(errors)),
    return: async () => ({ done: true, value: undefined }),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

function isAsyncIterable<T>(value: AsyncIterable<T> | ExecutionResult): value is AsyncIterable<T> {
  return Symbol.asyncIterator in value;
}
