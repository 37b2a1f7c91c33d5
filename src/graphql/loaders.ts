import DataLoader from 'dataloader';
import type { EntityClass, EntityManager } from '@mikro-orm/postgresql';
import { Chat } from '../modules/chat/chat.entity';
import { Message } from '../modules/message/message.entity';

/** Messages of one chat with `start <= seq <= end`. Seqs are gap-free, so a page is always such a range. */
export interface SeqRange {
  chatId: string;
  start: number;
  end: number;
}

/**
 * What the loaders return: a row under the entity's property names, not a managed entity (see createLoaders).
 * As a decorated parameter's type (`@Root() chat: Row<Chat>`) it also tells type-graphql to pass the value as it
 * is: with a class type there it would construct an entity from every row, once per field resolved.
 */
export type Row<T> = { [K in keyof T]: T[K] };

export interface Loaders {
  chat: DataLoader<string, Row<Chat> | null>;
  messageRange: DataLoader<SeqRange, Row<Message>[], string>;
}

/**
 * Per-request batching: every lookup of one tick becomes one SQL statement per loader.
 *
 * These are the hot read paths, so they skip what only writes need: the SQL is written out (`em.execute`) instead
 * of built by the query builder, and rows become plain objects with the entity's property names instead of
 * managed entities (no identity map, no change-tracking snapshot). Both cost more CPU than the rest of a read
 * request together (see bench/README.md). Nothing loaded here is ever flushed; writes load what they change.
 */
export function createLoaders(em: EntityManager): Loaders {
  return {
    chat: new DataLoader(async (ids) => {
      const rows = await em.execute('select * from "chat" where "id" in (?)', [ids]);
      const byId = new Map(asPlain(em, Chat, rows).map((chat) => [chat.id, chat]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    messageRange: new DataLoader(
      async (ranges) => {
        const where = ranges.map(() => '("chat_id" = ? and "seq" between ? and ?)').join(' or ');
        const rows = await em.execute(
          `select * from "message" where ${where} order by "seq" asc`,
          ranges.flatMap(({ chatId, start, end }) => [chatId, start, end]),
        );
        const byChat = new Map<string, Row<Message>[]>();
        for (const m of asPlain(em, Message, rows)) {
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

/** Rows as read-only values of the entity's shape, mapped column to property by the ORM's own metadata. */
function asPlain<T extends object>(em: EntityManager, entity: EntityClass<T>, rows: Record<string, unknown>[]): T[] {
  const meta = em.getMetadata().get<T>(entity.name);
  return rows.map((row) => em.getDriver().mapResult(row as never, meta) as T);
}
