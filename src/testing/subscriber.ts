import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { type Client, type ClientOptions, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { defaultToken } from './tokens';

export interface ConnectOptions extends Partial<ClientOptions> {
  /** The token sent in connection_init; null sends none. Default: a service token. */
  token?: string | null;
}

/** A graphql-ws client over the `ws` package that does not retry: a test sees every close. */
export function connect(wsUrl: string, options: ConnectOptions = {}): Client {
  const { token, ...clientOptions } = options;
  const connectionParams = async () => (token === null ? {} : { authorization: `Bearer ${token ?? (await defaultToken())}` });
  return createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams, ...clientOptions });
}

/** Connects at once and resolves with the client and its raw socket, for tests that cut the connection. */
export function connectWithSocket(wsUrl: string, options: ConnectOptions = {}): Promise<{ client: Client; socket: WebSocket }> {
  return new Promise((resolve, reject) => {
    const client: Client = connect(wsUrl, {
      ...options,
      lazy: false,
      onNonLazyError: () => undefined, // the test observes the close itself
      on: { connected: (socket) => resolve({ client, socket: socket as WebSocket }), closed: reject, error: reject },
    });
  });
}

export interface Feed<T> {
  /** Everything received, in arrival order. */
  readonly items: T[];
  /** Resolves once an item satisfies `done`; rejects if the subscription ends or fails first. */
  until(done: (item: T, items: readonly T[]) => boolean): Promise<readonly T[]>;
  /** Resolves with what ended the subscription: the errors of a protocol `error`, a close event, or 'completed'. */
  readonly ended: Promise<unknown>;
  stop(): void;
}

/** Subscribes and records what arrives; `pick` takes the item out of each result. */
export function subscribe<R, V, T>(
  client: Client,
  document: TypedDocumentNode<R, V>,
  variables: V,
  pick: (data: R) => T,
): Feed<T> {
  const items: T[] = [];
  const waiters = new Set<{ done: (item: T, items: readonly T[]) => boolean; resolve: (items: readonly T[]) => void; reject: (e: unknown) => void }>();
  let ended: { error: unknown } | undefined;
  let settleEnded!: (reason: unknown) => void;
  const endedPromise = new Promise<unknown>((resolve) => (settleEnded = resolve));

  const end = (error: unknown) => {
    ended = { error };
    settleEnded(error);
    for (const waiter of waiters) waiter.reject(new Error(`subscription ended after ${items.length} items: ${JSON.stringify(error)}`));
    waiters.clear();
  };
  const stop = client.subscribe<R>(
    { query: print(document), variables: variables as Record<string, unknown> },
    {
      next: (result) => {
        if (result.errors || !result.data) return end(result.errors);
        const item = pick(result.data as R);
        items.push(item);
        for (const waiter of waiters) {
          if (waiter.done(item, items)) {
            waiters.delete(waiter);
            waiter.resolve(items);
          }
        }
      },
      error: end,
      complete: () => end('completed'),
    },
  );
  return {
    items,
    ended: endedPromise,
    stop,
    until: (done) => {
      if (items.some((item) => done(item, items))) return Promise.resolve(items);
      if (ended) return Promise.reject(new Error(`subscription ended: ${JSON.stringify(ended.error)}`));
      return new Promise((resolve, reject) => waiters.add({ done, resolve, reject }));
    },
  };
}
