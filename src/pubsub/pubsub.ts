import { setMaxListeners } from 'node:events';
import { createPubSub, type PubSub, type PubSubEventTarget } from '@graphql-yoga/subscription';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics';

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

/** Rung with each event of a topic, and with no event when events may have been lost (Redis reconnected). */
export type Doorbell<E = MessageAdded> = (event?: E) => void;

export interface AppPubSub extends PubSub<Topics> {
  /**
   * Rings `ring` for every MESSAGE_ADDED event of the chat until the returned function is called. Resolves once
   * every event published from then on is sure to ring it (over Redis: once Redis confirmed the subscription).
   */
  listenMessageAdded(chatId: string, ring: Doorbell): Promise<() => void>;
  /** The same for the INBOX events of one user (a live feed hears of its viewer's removal this way). */
  listenInbox(userId: string, ring: Doorbell<InboxEvent>): Promise<() => void>;
}

export interface PubSubHandle {
  pubSub: AppPubSub;
  close(): Promise<void>;
}

type EventTarget = PubSubEventTarget<Topics>;

const topicOf = (chatId: string) => `MESSAGE_ADDED:${chatId}`;
const channelOf = (routingKey: keyof Topics, id: string) => `${routingKey}:${id}`;
const topicOfChannel = (channel: string) => channel.slice(0, channel.indexOf(':')) as keyof Topics;

/**
 * In-process when `redisUrl` is unset (one instance); over Redis pub/sub when set (any number of instances). Every
 * publish is counted by topic.
 */
export function createAppPubSub(metrics: Metrics, redisUrl?: string, logger?: Logger): PubSubHandle {
  const handle = redisUrl ? redisPubSub(redisUrl, metrics, logger) : inProcessPubSub();
  const { publish } = handle.pubSub;
  return {
    ...handle,
    pubSub: {
      ...handle.pubSub,
      publish: (routingKey, ...args) => {
        metrics.published(routingKey);
        publish(routingKey, ...args);
      },
    },
  };
}

function inProcessPubSub(): PubSubHandle {
  const eventTarget = new globalThis.EventTarget() as EventTarget;
  setMaxListeners(0, eventTarget as unknown as globalThis.EventTarget); // a chat may have thousands of subscribers
  const pubSub = createPubSub<Topics>({ eventTarget });
  return { pubSub: { ...pubSub, ...listeners(eventTarget, new Set(), async () => undefined) }, close: async () => undefined };
}

/**
 * Redis pub/sub through @graphql-yoga/redis-event-target (channel `MESSAGE_ADDED:<chatId>`, JSON payload). Redis
 * delivers at most once, so an outage must not lose a message for good: a publish that fails is logged, never
 * fails the post, and is repeated once the publisher is connected again; when the subscriber connection comes
 * back, every local listener is rung so it reads what it missed from the database.
 */
function redisPubSub(redisUrl: string, metrics: Metrics, logger?: Logger): PubSubHandle {
  const publishClient = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  // Commands wait for the connection instead of failing: the adapter does not handle a failed (UN)SUBSCRIBE.
  const subscribeClient = new Redis(redisUrl, { maxRetriesPerRequest: null });
  for (const [name, client] of [['publish', publishClient], ['subscribe', subscribeClient]] as const) {
    client.on('error', (error) => logger?.warn({ err: error, client: name }, 'redis connection error'));
  }
  const eventTarget = createRedisEventTarget<never>({ publishClient, subscribeClient }) as EventTarget;
  const everyone = new Set<Doorbell<never>>();

  // Redis has handled every command sent before this one (SUBSCRIBEs included) once it answers.
  const subscriptionsEffective = async () => {
    if (subscribeClient.status === 'ready') await subscribeClient.ping();
  };
  subscribeClient.on('ready', () => {
    // 'ready' comes before ioredis re-subscribes; ring once the re-subscriptions are in effect.
    subscriptionsEffective()
      .then(() => everyone.forEach((ring) => ring()))
      .catch((error) => logger?.warn({ err: error }, 'could not confirm redis re-subscription'));
  });

  // By channel, the newest event not sent yet: for a chat its highest seq, for an inbox the last change (a state feed).
  const unsent = new Map<string, InboxEvent | MessageAdded>();
  const publish = (channel: string, event: InboxEvent | MessageAdded) => {
    publishClient.publish(channel, JSON.stringify(event)).catch((error) => {
      logger?.warn({ err: error, channel }, 'could not publish to redis; will repeat when it is back');
      metrics.publishFailed(topicOfChannel(channel));
      const pending = unsent.get(channel);
      if (!pending || !('seq' in pending) || !('seq' in event) || pending.seq < event.seq) unsent.set(channel, event);
    });
  };
  publishClient.on('ready', () => {
    const events = [...unsent];
    unsent.clear();
    events.forEach(([channel, event]) => {
      metrics.resent(topicOfChannel(channel));
      publish(channel, event);
    });
  });

  const pubSub = createPubSub<Topics>({ eventTarget });
  return {
    pubSub: {
      ...pubSub,
      publish: (routingKey, id, event) => publish(channelOf(routingKey, id), event),
      ...listeners(eventTarget, everyone, subscriptionsEffective),
    },
    close: async () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}

/**
 * `listenMessageAdded` and `listenInbox` over an event target: routed per topic, so an event costs only that topic's
 * listeners. `everyone` holds every listener, for the rare ring-all; `effective` resolves once new listeners surely
 * hear events. A payload that is not the topic's event rings with no event (read the state, trust nothing).
 */
function listeners(eventTarget: EventTarget, everyone: Set<Doorbell<never>>, effective: () => Promise<void>) {
  const listen = async <E>(topic: string, isEvent: (detail: E) => boolean, ring: Doorbell<E>): Promise<() => void> => {
    const onEvent = (event: CustomEvent<E>) => ring(event.detail != null && isEvent(event.detail) ? event.detail : undefined);
    eventTarget.addEventListener(topic, onEvent as never);
    everyone.add(ring);
    const stop = () => {
      eventTarget.removeEventListener(topic, onEvent as never);
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
  return {
    listenMessageAdded: (chatId: string, ring: Doorbell) => listen<MessageAdded>(topicOf(chatId), (e) => Number.isInteger(e.seq), ring),
    listenInbox: (userId: string, ring: Doorbell<InboxEvent>) =>
      listen<InboxEvent>(channelOf('INBOX', userId), (e) => typeof e.chatId === 'string', ring),
  };
}
