import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { toRows } from '../db/rows';
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

/**
 * Per-request batching: every lookup of one tick becomes one SQL statement per loader.
 *
 * These are the hot read paths, so they skip what only writes need: the SQL is written out (`em.execute`) instead
 * of built by the query builder, and rows become plain objects with the entity's property names instead of
 * managed entities (no identity map, no change-tracking snapshot). Both cost more CPU than the rest of a read
 * request together (see bench/README.md). Nothing here is ever flushed.
 */
export function createLoaders(em: EntityManager): Loaders {
  return {
    chat: new DataLoader(async (ids) => {
      const rows = await em.execute('select * from "chat" where "id" = any(?::uuid[])', [pgArray(ids)]);
      const byId = new Map(toRows(em, Chat, rows).map((chat) => [chat.id, chat]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    messageRange: new DataLoader(
      async (ranges) => {
        // One LATERAL read per range, tagged with the range's position: ranges of one chat may overlap (a page and
        // `lastMessage`), and each must get exactly its own messages. Each range is an index scan on (chat_id, seq).
        const rows = await em.execute(
          `select "range"."i", "message".*
           from unnest(?::uuid[], ?::int[], ?::int[]) with ordinality as "range"("chat_id", "start", "end", "i")
           cross join lateral (
             select * from "message"
             where "message"."chat_id" = "range"."chat_id" and "message"."seq" between "range"."start" and "range"."end"
             order by "message"."seq"
           ) as "message"
           order by "range"."i", "message"."seq"`,
          [pgArray(ranges.map((r) => r.chatId)), pgArray(ranges.map((r) => r.start)), pgArray(ranges.map((r) => r.end))],
        );
        const byRange: Message[][] = ranges.map(() => []);
        const messages = toRows(em, Message, rows);
        rows.forEach((row, k) => byRange[Number(row.i) - 1].push(messages[k]));
        return byRange;
      },
      { cacheKeyFn: ({ chatId, start, end }) => `${chatId}:${start}:${end}` },
    ),
  };
}

/**
 * A PostgreSQL array literal, sent as one parameter (the ORM would otherwise quote every element into the SQL).
 * Only for values that need no escaping: UUIDs, which the services validate, and integers.
 */
function pgArray(values: readonly (string | number)[]): string {
  return `{${values.join(',')}}`;
}
