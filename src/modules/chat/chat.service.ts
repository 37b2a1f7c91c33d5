import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { badInput, notFound, uuidOf } from '../../errors';
import type { Loaders } from '../../graphql/loaders';
import type { Message } from '../message/message.entity';
import { type NewMessage, validateMessage } from '../message/message.rules';
import { INSERT_MESSAGE, type MessageService } from '../message/message.service';
import type { Chat } from './chat.entity';

export const MAX_CHATS_PER_QUERY = 100;

const INSERT_CHAT = 'insert into "chat" ("id", "created_at", "message_count") values (?, ?, 0)';
/** One statement, so the chat and its first message are stored together or not at all. */
const INSERT_CHAT_WITH_MESSAGE = `
  with chat as (insert into "chat" ("id", "created_at", "message_count") values (?, ?, 1) returning "id")
  ${INSERT_MESSAGE}
  select ?, "id", 1, ?, ?, ?, ?, ? from chat`;

export class ChatService {
  constructor(private readonly messages: MessageService) {}

  /** Creates a chat, with its first message (seq 1) in the same statement when one is given. */
  async start(em: EntityManager, firstMessage?: NewMessage | null): Promise<Chat> {
    const content = firstMessage ? validateMessage(firstMessage) : null;
    const chat: Chat = { id: randomUUID(), createdAt: new Date(), messageCount: content ? 1 : 0 };
    if (!content) {
      await em.execute(INSERT_CHAT, [chat.id, chat.createdAt]);
      return chat;
    }
    const message: Message = { id: randomUUID(), chatId: chat.id, seq: 1, ...content, createdAt: chat.createdAt };
    const { sender, text, system, clientMessageId } = message;
    await em.execute(INSERT_CHAT_WITH_MESSAGE, [chat.id, chat.createdAt, message.id, sender, text, system, message.createdAt, clientMessageId]);
    this.messages.announce(message);
    return chat;
  }

  async find(loaders: Loaders, id: string): Promise<Chat | null> {
    return loaders.chat.load(uuidOf(id, 'id'));
  }

  async get(loaders: Loaders, id: string): Promise<Chat> {
    const chatId = uuidOf(id, 'chatId');
    const chat = await loaders.chat.load(chatId);
    if (!chat) throw notFound(`chat ${chatId} does not exist`);
    return chat;
  }

  async findMany(loaders: Loaders, ids: readonly string[]): Promise<(Chat | null)[]> {
    if (ids.length > MAX_CHATS_PER_QUERY) {
      throw badInput(`ids may list at most ${MAX_CHATS_PER_QUERY} chats, got ${ids.length}`);
    }
    const chatIds = ids.map((id, i) => uuidOf(id, `ids[${i}]`));
    return Promise.all(chatIds.map((id) => loaders.chat.load(id)));
  }
}
