import { setMaxListeners } from 'node:events';
import { createPubSub, type PubSub, type PubSubEventTarget } from '@graphql-yoga/subscription';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import Redis from 'ioredis';
import type { Logger } from 'pino';

/** Published after a message's transaction committed. Small on purpose: it is a doorbell, the database is the log. */
export interface MessageAdded {
  chatId: string;
  seq: number;
}

export type InboxReason = 'MESSAGE' | 'JOINED' | 'LEFT' | 'READ';

/** Published to a user after a change to one of its chats committed: the inbox re-reads that chat's state. */
export interface InboxEvent {
  chatId: string;
  reason: InboxReason;
}

/**
 * One topic per chat (`MESSAGE_ADDED:<chatId>`), so a post only reaches that chat's subscribers, and one per user
 * (`INBOX:<userId>`), so a change reaches only the members it concerns.
 */
export type Topics = {
  MESSAGE_ADDED: [chatId: string, event: MessageAdded];
  INBOX: [userId: string, event: InboxEvent];
};

/** Rung with each event of a chat, and with no event when events may have been lost (Redis reconnected). */
export type Doorbell = (event?: MessageAdded) => void;

export interface AppPubSub extends PubSub<Topics> {
  /**
   * Rings `ring` for every MESSAGE_ADDED event of the chat until the returned function is called. Resolves once
   * every event published from then on is sure to ring it (over Redis: once Redis confirmed the subscription).
   */
  listenMessageAdded(chatId: string, ring: Doorbell): Promise<() => void>;
}

export interface PubSubHandle {
  pubSub: AppPubSub;
  close(): Promise<void>;
}

type EventTarget = PubSubEventTarget<Topics>;

const topicOf = (chatId: string) => `MESSAGE_ADDED:${chatId}`;
const channelOf = (routingKey: keyof Topics, id: string) => `${routingKey}:${id}`;

/** In-process when `redisUrl` is unset (one instance); over Redis pub/sub when set (any number of instances). */
export function createAppPubSub(redisUrl?: string, logger?: Logger): PubSubHandle {
  return redisUrl ? redisPubSub(redisUrl, logger) : inProcessPubSub();
}

function inProcessPubSub(): PubSubHandle {
  const eventTarget = new globalThis.EventTarget() as EventTarget;
  setMaxListeners(0, eventTarget as unknown as globalThis.EventTarget); // a chat may have thousands of subscribers
  const pubSub = createPubSub<Topics>({ eventTarget });
  const listenMessageAdded = messageAddedListener(eventTarget, new Set(), async () => undefined);
  return { pubSub: { ...pubSub, listenMessageAdded }, close: async () => undefined };
}

/**
 * Redis pub/sub through @graphql-yoga/redis-event-target (channel `MESSAGE_ADDED:<chatId>`, JSON payload). Redis
 * delivers at most once, so an outage must not lose a message for good: a publish that fails is logged, never
 * fails the post, and is repeated once the publisher is connected again; when the subscriber connection comes
 * back, every local listener is rung so it reads what it missed from the database.
 */
function redisPubSub(redisUrl: string, logger?: Logger): PubSubHandle {
  const publishClient = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  // Commands wait for the connection instead of failing: the adapter does not handle a failed (UN)SUBSCRIBE.
  const subscribeClient = new Redis(redisUrl, { maxRetriesPerRequest: null });
  for (const [name, client] of [['publish', publishClient], ['subscribe', subscribeClient]] as const) {
    client.on('error', (error) => logger?.warn({ err: error, client: name }, 'redis connection error'));
  }
  const eventTarget = createRedisEventTarget<never>({ publishClient, subscribeClient }) as EventTarget;
  const listeners = new Set<Doorbell>();

  // Redis has handled every command sent before this one (SUBSCRIBEs included) once it answers.
  const subscriptionsEffective = async () => {
    if (subscribeClient.status === 'ready') await subscribeClient.ping();
  };
  subscribeClient.on('ready', () => {
    // 'ready' comes before ioredis re-subscribes; ring once the re-subscriptions are in effect.
    subscriptionsEffective()
      .then(() => listeners.forEach((ring) => ring()))
      .catch((error) => logger?.warn({ err: error }, 'could not confirm redis re-subscription'));
  });

  // By channel, the newest event not sent yet: for a chat its highest seq, for an inbox the last change (a state feed).
  const unsent = new Map<string, InboxEvent | MessageAdded>();
  const publish = (channel: string, event: InboxEvent | MessageAdded) => {
    publishClient.publish(channel, JSON.stringify(event)).catch((error) => {
      logger?.warn({ err: error, channel }, 'could not publish to redis; will repeat when it is back');
      const pending = unsent.get(channel);
      if (!pending || !('seq' in pending) || !('seq' in event) || pending.seq < event.seq) unsent.set(channel, event);
    });
  };
  publishClient.on('ready', () => {
    const events = [...unsent];
    unsent.clear();
    events.forEach(([channel, event]) => publish(channel, event));
  });

  const pubSub = createPubSub<Topics>({ eventTarget });
  return {
    pubSub: {
      ...pubSub,
      publish: (routingKey, id, event) => publish(channelOf(routingKey, id), event),
      listenMessageAdded: messageAddedListener(eventTarget, listeners, subscriptionsEffective),
    },
    close: async () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}

/**
 * `listenMessageAdded` over an event target: routed per chat topic, so an event costs only that chat's listeners.
 * `everyone` holds every listener, for the rare ring-all; `effective` resolves once new listeners surely hear events.
 */
function messageAddedListener(eventTarget: EventTarget, everyone: Set<Doorbell>, effective: () => Promise<void>) {
  return async (chatId: string, ring: Doorbell): Promise<() => void> => {
    const topic = topicOf(chatId);
    const onEvent = (event: CustomEvent<MessageAdded>) => ring(Number.isInteger(event.detail?.seq) ? event.detail : undefined);
    eventTarget.addEventListener(topic, onEvent);
    everyone.add(ring);
    const stop = () => {
      eventTarget.removeEventListener(topic, onEvent);
      everyone.delete(ring);
    };
    try {
      await effective();
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  };
}
