import { randomUUID } from 'node:crypto';
import type { Transaction } from '@mikro-orm/postgresql';
import { DomainError, notFound, uuidOf } from '../../errors';
import type { Metrics } from '../../metrics/metrics';
import type { AppPubSub } from '../../pubsub/pubsub';
import type { Chat } from '../chat/chat.entity';
import type { InboxService } from '../member/inbox.service';
import { type Page, pageOf } from '../page';
import type { Scope } from '../scope';
import type { Message } from './message.entity';
import { encodeCursor, type NewMessage, type PageRequest, seqWindow, validateMessage } from './message.rules';

export interface PostMessage extends NewMessage {
  chatId: string;
}

type Posted = { message: Message; created: boolean };

/**
 * A retry must repeat the message it retries: a key reused for other content is a client bug it should hear of
 * (as Stripe answers a reused idempotency key), not a silent answer with the earlier message.
 */
function sameContent(stored: Message, retry: Message): Message {
  if (stored.sender === retry.sender && stored.text === retry.text && stored.system === retry.system) return stored;
  throw new DomainError(
    'IDEMPOTENCY_KEY_REUSED',
    `clientMessageId "${retry.clientMessageId}" was already used in this chat for a different message (seq ${stored.seq}); ` +
      'use a new key for a new message',
  );
}

export class MessageService {
  constructor(
    private readonly pubSub: AppPubSub,
    private readonly inbox: InboxService,
    private readonly metrics: Metrics,
  ) {}

  /** Stores a message and answers once it is committed; publishes it only when it is new. */
  async post(scope: Scope, input: PostMessage): Promise<Message> {
    const chatId = uuidOf(input.chatId, 'chatId');
    const content = validateMessage(input, scope.viewer);
    const draft: Message = { id: randomUUID(), chatId, seq: 0, ...content, createdAt: new Date() };
    const { message, created }: Posted =
      content.clientMessageId === null
        ? { message: await this.insertNext(scope, draft), created: true }
        : await scope.em.getConnection().transactional((trx) => this.insertOnce(scope, draft, trx));
    if (created) this.announce(scope, message);
    else this.metrics.messagePosted(false);
    return message;
  }

  /**
   * With an idempotency key: the chat row is locked first, so the key is checked against everything committed
   * before, and concurrent posts with one key store one message.
   */
  private async insertOnce(scope: Scope, draft: Message, trx: Transaction): Promise<Posted> {
    const { chats, messages } = scope.repositories;
    if (!(await chats.lockVisible(draft.chatId, scope.viewer, trx))) throw notFound(`chat ${draft.chatId} does not exist`);
    const stored = await messages.findByKey(draft.chatId, draft.clientMessageId!, trx);
    if (stored) return { message: sameContent(stored, draft), created: false };
    return { message: await this.insertNext(scope, draft, trx), created: true };
  }

  private async insertNext({ viewer, repositories }: Scope, draft: Message, trx?: Transaction): Promise<Message> {
    const seq = await repositories.messages.insertNext(draft, viewer, trx);
    if (seq === null) throw notFound(`chat ${draft.chatId} does not exist`);
    draft.seq = seq;
    return draft;
  }

  /**
   * After a new message committed: counts it, and rings the chat's live feeds and the inbox of every member: of
   * `memberIds` when the caller knows them (a chat it just stored with its members), else looked up off the poster's
   * answer path.
   */
  announce(scope: Scope, message: Message, memberIds?: readonly string[]): void {
    this.metrics.messagePosted(true);
    this.pubSub.publish('MESSAGE_ADDED', message.chatId, { chatId: message.chatId, seq: message.seq });
    if (memberIds) this.inbox.notify(memberIds, message.chatId, 'MESSAGE');
    else this.inbox.notifyMembers(scope.repositories, message.chatId, 'MESSAGE');
  }

  async page(scope: Scope, chat: Chat, request: PageRequest): Promise<Page<Message>> {
    const { start, end } = seqWindow(chat.messageCount, request);
    const nodes = start > end ? [] : await scope.loaders.messageRange.load({ chatId: chat.id, start, end });
    return pageOf(nodes, (node) => encodeCursor(node.seq), {
      hasPreviousPage: Math.min(start - 1, chat.messageCount) >= 1,
      hasNextPage: end < chat.messageCount,
    });
  }

  async last(scope: Scope, chat: Chat): Promise<Message | null> {
    if (chat.messageCount === 0) return null;
    const [message] = await scope.loaders.messageRange.load({ chatId: chat.id, start: chat.messageCount, end: chat.messageCount });
    return message ?? null;
  }
}
