import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Chat } from '../modules/chat/chat.entity';
import { Message } from '../modules/message/message.entity';

/** Messages of one chat with `start <= seq <= end`. Seqs are gap-free, so a page is always such a range. */
export interface SeqRange {
  chatId: string;
  start: number;
  end: number;
}

export interface Loaders {
  chat: DataLoader<string, Chat | null>;
  messageRange: DataLoader<SeqRange, Message[], string>;
}

/** Per-request batching: every lookup of one tick becomes one SQL statement per loader. */
export function createLoaders(em: EntityManager): Loaders {
  return {
    chat: new DataLoader(async (ids) => {
      const chats = await em.find(Chat, { id: { $in: [...ids] } });
      const byId = new Map(chats.map((chat) => [chat.id, chat]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    messageRange: new DataLoader(
      async (ranges) => {
        const messages = await em.find(
          Message,
          { $or: ranges.map(({ chatId, start, end }) => ({ chatId, seq: { $gte: start, $lte: end } })) },
          { orderBy: { seq: 'asc' } },
        );
        const byChat = new Map<string, Message[]>();
        for (const m of messages) {
          const list = byChat.get(m.chatId);
          if (list) list.push(m);
          else byChat.set(m.chatId, [m]);
        }
        return ranges.map(({ chatId, start, end }) =>
          (byChat.get(chatId) ?? []).filter((m) => m.seq >= start && m.seq <= end),
        );
      },
      { cacheKeyFn: ({ chatId, start, end }) => `${chatId}:${start}:${end}` },
    ),
  };
}
