import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { badInput, notFound, serviceUnavailable, uuidOf } from '../../errors';
import type { Metrics } from '../../metrics/metrics';
import type { AppPubSub, Doorbell, InboxEvent, MessageAdded } from '../../pubsub/pubsub';
import type { Viewer } from '../../auth/viewer';
import { ChatRepository } from '../chat/chat.repository';
import { MemberRepository } from '../member/member.repository';
import type { Message } from './message.entity';
import { MessageRepository } from './message.repository';

/** At most this many messages per query when a feed catches up (a replay, or a burst it has not read yet). */
export const READ_BATCH = 100;
/** A feed whose reads keep failing ends (SERVICE_UNAVAILABLE) once they have failed for this long. */
export const FEED_READ_RETRY_LIMIT_MS = 30_000;
/** The first repeat of a failed read waits this long, each next one twice as long, up to the maximum. */
const FEED_READ_RETRY_FIRST_MS = 100;
const FEED_READ_RETRY_MAX_MS = 5_000;

/**
 * The live `messageAdded` feeds of one app. The database is the log and the pub/sub only a doorbell: a feed reads
 * every message it delivers from the database, in seq order, right after the last one it delivered. An event that
 * arrives late, twice, out of order or not at all changes when a range is read, never what is delivered.
 */
export class MessageSubscriptions {
  /** Reads not yet sent, by `chatId:afterSeq`: the subscribers one event wakes share one query. */
  private readonly queued = new Map<string, Promise<readonly Message[]>>();

  /** `em` is only forked: every read gets a fresh entity manager. */
  constructor(
    private readonly pubSub: AppPubSub,
    private readonly em: EntityManager,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  /**
   * The messages of the chat with seq > afterSeq (without afterSeq: those committed from now on), in seq order, each
   * once. Bad arguments and an unknown chat fail here, before the first message.
   */
  async follow(id: string, afterSeq: number | null | undefined, viewer: Viewer): Promise<AsyncIterableIterator<Message>> {
    const chatId = uuidOf(id, 'chatId');
    if (afterSeq != null && !(Number.isInteger(afterSeq) && afterSeq >= 0)) {
      throw badInput(`afterSeq must be an integer >= 0, got ${afterSeq}`);
    }
    const feed = new ChatFeed((seq) => this.readAfter(chatId, seq), (message) => this.metrics.messageDelivered(message.createdAt));
    // Listen before reading the position, so that whatever commits after that read rings the feed (and a removal
    // after that read ends it).
    feed.onReturn(await this.pubSub.listenMessageAdded(chatId, feed.ring));
    try {
      if (!viewer.service) feed.onReturn(await this.pubSub.listenInbox(viewer.userId, this.endOnRemoval(feed, chatId, viewer)));
      const [chat] = await new ChatRepository(this.em.fork()).findVisible([chatId], viewer);
      if (!chat) throw notFound(`chat ${chatId} does not exist`);
      if (afterSeq != null && afterSeq > chat.messageCount) {
        throw badInput(`afterSeq ${afterSeq} is after the chat's newest message (seq ${chat.messageCount})`);
      }
      feed.start(afterSeq ?? chat.messageCount, chat.messageCount);
      return feed;
    } catch (error) {
      await feed.return();
      throw error;
    }
  }

  /**
   * Ends the feed with NOT_FOUND once its viewer is no longer a member: on a LEFT event for its chat, and on a ring
   * without an event (pub/sub reconnected, events may be lost), after checking the database.
   */
  private endOnRemoval(feed: ChatFeed, chatId: string, viewer: Viewer): Doorbell<InboxEvent> {
    return (event) => {
      if (event && !(event.chatId === chatId && event.reason === 'LEFT')) return;
      new MemberRepository(this.em.fork())
        .isMember(chatId, viewer.userId)
        .then((member) => member || feed.end(notFound(`chat ${chatId} does not exist`)))
        .catch((error) => this.logger.warn({ err: error, chatId }, 'could not check a feed’s membership; checking on its next removal'));
    };
  }

  /**
   * Up to READ_BATCH messages after `afterSeq`. The query waits for the current turn of the event loop to end and is
   * shared by every caller until then; a caller never joins a query that started before it asked.
   *
   * Every caller gets the very same message objects: graphql/subscribe.ts relies on that to execute an operation once
   * per message for all its subscribers (it keys shared executions by the message object).
   */
  private readAfter(chatId: string, afterSeq: number): Promise<readonly Message[]> {
    const key = `${chatId}:${afterSeq}`;
    const queued = this.queued.get(key);
    if (queued) return queued;
    const read = setImmediate().then(() => {
      this.queued.delete(key);
      return new MessageRepository(this.em.fork()).findAfter(chatId, afterSeq, READ_BATCH);
    });
    this.queued.set(key, read);
    // One line per failed query, however many feeds shared it; each of them repeats the read (ChatFeed).
    read.catch((error) => this.logger.warn({ err: error, chatId, afterSeq }, 'subscription read failed; repeating it'));
    return read;
  }
}

/** What the context of a websocket operation carries: type-graphql calls `subscribe` without the resolver instance. */
export interface SubscriptionContext {
  messageSubscriptions: MessageSubscriptions;
  /** The socket's caller, from its connection_init token. */
  viewer: Viewer;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** One subscriber's position in one chat. graphql-js asks for one event at a time, so next() never overlaps itself. */
class ChatFeed implements AsyncIterableIterator<Message> {
  private readonly stopListening: (() => void)[] = [];
  /** Why the feed was ended from outside (its viewer removed); the next `next()` throws it. */
  private failure?: Error;
  /** The highest seq read so far (-1 until the position is known: every event counts until then). */
  private position = -1;
  /** The chat's newest seq when the feed started: messages after it are live, the others a replay. */
  private liveAfter = 0;
  /** The live message handed out last, until the next is asked for: graphql-ws asks once it has sent that one. */
  private sending?: Message;
  /** The database may hold messages after `position`. */
  private stale = false;
  private unread: readonly Message[] = [];
  private nextUnread = 0;
  private wake?: () => void;
  private closed = false;
  /**
   * Aborted by return(): cuts short a wait before repeating a failed read. Made at the first failure, not with every
   * feed: thousands of feeds are held at once (bench W10), and aborting makes an error object each.
   */
  private stopped?: AbortController;

  constructor(
    private readonly readAfter: (seq: number) => Promise<readonly Message[]>,
    /** Told of each live message once it was sent to the subscriber. */
    private readonly delivered: (message: Message) => void,
  ) {}

  readonly ring = (event?: MessageAdded): void => {
    if (event && event.seq <= this.position) return; // late or repeated: already read
    this.stale = true;
    this.wake?.();
  };

  /** Stops a listener when the feed ends. */
  onReturn(stop: () => void): void {
    this.stopListening.push(stop);
  }

  /** Ends the feed with `error`, which its subscriber receives as an `error` message. */
  end(error: Error): void {
    if (this.closed) return;
    this.failure = error;
    void this.return();
  }

  start(position: number, newest: number): void {
    this.position = position;
    this.liveAfter = newest;
    if (newest > position) this.stale = true;
  }

  async next(): Promise<IteratorResult<Message>> {
    if (this.sending) this.delivered(this.sending);
    this.sending = undefined;
    while (!this.closed) {
      if (this.nextUnread < this.unread.length) {
        const message = this.unread[this.nextUnread++];
        if (message.seq > this.liveAfter) this.sending = message;
        return { done: false, value: message };
      }
      if (this.stale) await this.catchUp();
      else await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
    if (this.failure) throw this.failure;
    return DONE;
  }

  async return(): Promise<IteratorResult<Message>> {
    this.closed = true;
    this.unread = [];
    this.stopListening.forEach((stop) => stop());
    this.stopped?.abort();
    this.wake?.();
    return DONE;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return this;
  }

  private async catchUp(): Promise<void> {
    this.stale = false; // cleared before the read: an event that rings during it triggers the next read
    const messages = await this.readRepeatingFailures();
    if (this.closed || messages.length === 0) return;
    this.unread = messages;
    this.nextUnread = 0;
    this.position = messages[messages.length - 1].seq;
    if (messages.length === READ_BATCH) this.stale = true;
  }

  /**
   * The messages after the position. A failed read (a terminated connection, the database restarting) is repeated
   * with backoff: the position has not moved, so nothing is lost or repeated. Only when reads have failed for
   * FEED_READ_RETRY_LIMIT_MS does the feed end, with SERVICE_UNAVAILABLE. The waits do not vary, so the
   * subscribers of one failed read repeat it together and share the next one too.
   */
  private async readRepeatingFailures(): Promise<readonly Message[]> {
    const started = Date.now();
    for (let wait = FEED_READ_RETRY_FIRST_MS; !this.closed; wait = Math.min(wait * 2, FEED_READ_RETRY_MAX_MS)) {
      try {
        return await this.readAfter(this.position);
      } catch {
        if (this.closed) break;
        if (Date.now() - started >= FEED_READ_RETRY_LIMIT_MS) {
          await this.return();
          throw serviceUnavailable(
            `The database has been unavailable for ${FEED_READ_RETRY_LIMIT_MS / 1000} s; subscribe again with afterSeq ${this.position} to continue`,
          );
        }
        this.stopped ??= new AbortController();
        await sleep(wait, undefined, { signal: this.stopped.signal }).catch(() => undefined);
      }
    }
    return [];
  }
}
