import type { EntityManager } from '@mikro-orm/postgresql';
import { assertUuid, badInput, notFound } from '../../errors';
import type { Loaders } from '../../graphql/loaders';
import { Message } from '../message/message.entity';
import { type NewMessage, validateMessage } from '../message/message.rules';
import type { MessageService } from '../message/message.service';
import { Chat } from './chat.entity';

export const MAX_CHATS_PER_QUERY = 100;

export class ChatService {
  constructor(private readonly messages: MessageService) {}

  /** Creates a chat, with its first message (seq 1) in the same transaction when one is given. */
  async start(em: EntityManager, firstMessage?: NewMessage | null): Promise<Chat> {
    const content = firstMessage ? validateMessage(firstMessage) : null;
    const { chat, message } = await em.transactional(async (tx) => {
      const chat = tx.create(Chat, { messageCount: content ? 1 : 0 });
      const message = content ? tx.create(Message, { ...content, chatId: chat.id, seq: 1 }) : null;
      return { chat, message };
    });
    if (message) this.messages.announce(message);
    return chat;
  }

  async find(loaders: Loaders, id: string): Promise<Chat | null> {
    assertUuid(id, 'id');
    return loaders.chat.load(id);
  }

  async get(loaders: Loaders, id: string): Promise<Chat> {
    assertUuid(id, 'chatId');
    const chat = await loaders.chat.load(id);
    if (!chat) throw notFound(`chat ${id} does not exist`);
    return chat;
  }

  async findMany(loaders: Loaders, ids: readonly string[]): Promise<(Chat | null)[]> {
    if (ids.length > MAX_CHATS_PER_QUERY) {
      throw badInput(`ids may list at most ${MAX_CHATS_PER_QUERY} chats, got ${ids.length}`);
    }
    ids.forEach((id, i) => assertUuid(id, `ids[${i}]`));
    return Promise.all(ids.map((id) => loaders.chat.load(id)));
  }
}
