import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import Redis from 'ioredis';

/** Published after a message's transaction committed. Small on purpose: it is a doorbell, the database is the log. */
export interface MessageAdded {
  chatId: string;
  seq: number;
}

/** One topic per chat (`MESSAGE_ADDED:<chatId>`), so a post only reaches that chat's subscribers. */
export type Topics = {
  MESSAGE_ADDED: [chatId: string, event: MessageAdded];
};

export type AppPubSub = PubSub<Topics>;

export interface PubSubHandle {
  pubSub: AppPubSub;
  close(): Promise<void>;
}

/** In-process when `redisUrl` is unset (one instance); over Redis pub/sub when set (any number of instances). */
export function createAppPubSub(redisUrl?: string): PubSubHandle {
  if (!redisUrl) return { pubSub: createPubSub<Topics>(), close: async () => undefined };
  const publishClient = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  const subscribeClient = new Redis(redisUrl);
  for (const client of [publishClient, subscribeClient]) client.on('error', () => undefined);
  const eventTarget = createRedisEventTarget<never>({ publishClient, subscribeClient });
  return {
    pubSub: createPubSub<Topics>({ eventTarget }),
    close: async () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}
