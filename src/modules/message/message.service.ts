import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { assertUuid, notFound } from '../../errors';
import type { Loaders } from '../../graphql/loaders';
import type { AppPubSub } from '../../pubsub/pubsub';
import { Chat } from '../chat/chat.entity';
import { Message } from './message.entity';
import { encodeCursor, type NewMessage, type PageRequest, seqWindow, validateMessage } from './message.rules';

export interface PostMessage extends NewMessage {
  chatId: string;
}

export interface MessagePage {
  edges: { cursor: string; node: Message }[];
  nodes: Message[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

export class MessageService {
  constructor(private readonly pubSub: AppPubSub) {}

  /**
   * Stores a message and answers once it is committed. The chat row is locked for the transaction, so seqs are
   * handed out gap-free in commit order and an idempotency key is checked against everything committed before.
   */
  async post(em: EntityManager, input: PostMessage): Promise<Message> {
    assertUuid(input.chatId, 'chatId');
    const content = validateMessage(input);
    const { message, created } = await em.transactional(async (tx) => {
      const chat = await tx.findOne(Chat, input.chatId, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (!chat) throw notFound(`chat ${input.chatId} does not exist`);
      if (content.clientMessageId !== null) {
        const stored = await tx.findOne(Message, { chatId: chat.id, clientMessageId: content.clientMessageId });
        if (stored) return { message: stored, created: false };
      }
      chat.messageCount += 1;
      return { message: tx.create(Message, { ...content, chatId: chat.id, seq: chat.messageCount }), created: true };
    });
    if (created) this.announce(message);
    return message;
  }

  /** Publishes a committed message to its chat's subscribers. */
  announce(message: Message): void {
    this.pubSub.publish('MESSAGE_ADDED', message.chatId, { chatId: message.chatId, seq: message.seq });
  }

  async page(loaders: Loaders, chat: Chat, request: PageRequest): Promise<MessagePage> {
    const { start, end } = seqWindow(chat.messageCount, request);
    const nodes = start > end ? [] : await loaders.messageRange.load({ chatId: chat.id, start, end });
    const edges = nodes.map((node) => ({ cursor: encodeCursor(node.seq), node }));
    return {
      edges,
      nodes,
      pageInfo: {
        hasPreviousPage: Math.min(start - 1, chat.messageCount) >= 1,
        hasNextPage: end < chat.messageCount,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
    };
  }

  async last(loaders: Loaders, chat: Chat): Promise<Message | null> {
    if (chat.messageCount === 0) return null;
    const [message] = await loaders.messageRange.load({ chatId: chat.id, start: chat.messageCount, end: chat.messageCount });
    return message ?? null;
  }
}
