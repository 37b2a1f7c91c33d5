import type { GraphQLFormattedError } from 'graphql';
import type { Client } from 'graphql-ws';
import { type ChatMessageFragment, LiveMessagesDocument, type LiveMessagesSubscription } from './generated/graphql';

export interface FollowOptions {
  chatId: string;
  /** The newest seq already shown; 0 for the whole chat. */
  afterSeq: number;
  /** Each message once, in seq order. */
  onMessage: (message: ChatMessageFragment) => void;
  /** The feed ended for good: the chat is gone or the caller is no longer a member (NOT_FOUND), or a bad argument. */
  onError: (errors: readonly GraphQLFormattedError[]) => void;
  /** Pause before subscribing again after the client gave up; 1 s by default. */
  retryDelayMs?: number;
}

/**
 * A chat's messages, live, across dropped sockets and server restarts: each message once, in seq order, none missed.
 * Takes any graphql-ws client, also the one under Apollo Client's GraphQLWsLink or urql's subscriptionExchange.
 *
 * The newest seq delivered is the subscription's `afterSeq`, and the server replays what follows it (README,
 * "Reconnecting"):
 * - graphql-ws retries on its own and sends the subscription's payload object again on every reconnect: that
 *   object's `afterSeq` is kept at the newest seq delivered, so its retries resume from there, not from the first.
 * - When the client gives up (retries off or spent, a refused reconnect) or the server ends the feed with
 *   SERVICE_UNAVAILABLE, this subscribes again from the newest seq after `retryDelayMs`, for as long as it takes.
 * - A message at or below the newest seq is dropped, whoever sends it again.
 *
 * Follows the chat until the returned function is called.
 */
export function followMessages(client: Client, options: FollowOptions): () => void {
  const { chatId, onMessage, onError, retryDelayMs = 1000 } = options;
  const payload = { query: LiveMessagesDocument.toString(), variables: { chatId, afterSeq: options.afterSeq } };
  let stopped = false;
  let unsubscribe = () => {};
  let retry: ReturnType<typeof setTimeout> | undefined;
  const again = () => {
    if (!stopped) retry = setTimeout(subscribe, retryDelayMs);
  };
  const subscribe = () => {
    unsubscribe = client.subscribe<LiveMessagesSubscription>(payload, {
      next: ({ data }) => {
        const message = data?.messageAdded;
        if (!message || message.seq <= payload.variables.afterSeq) return;
        payload.variables.afterSeq = message.seq;
        onMessage(message);
      },
      error: (error) => {
        if (!Array.isArray(error)) return again(); // the socket closed and the client gave up
        const errors = error as GraphQLFormattedError[];
        if (errors.some((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE')) return again();
        onError(errors);
      },
      complete: () => {},
    });
  };
  subscribe();
  return () => {
    stopped = true;
    clearTimeout(retry);
    unsubscribe();
  };
}
