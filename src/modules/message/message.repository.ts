import type { EntityManager, Transaction } from '@mikro-orm/postgresql';
import type { Viewer } from '../../auth/viewer';
import { execute, statement, toRows } from '../../db/rows';
import { Message } from './message.entity';

/** Messages of one chat with `start <= seq <= end`. Seqs are gap-free, so a page is always such a range. */
export interface SeqRange {
  chatId: string;
  start: number;
  end: number;
}

/** The insert every write path shares; what follows it supplies the values in this order. */
export const INSERT_MESSAGE =
  'insert into "message" ("id", "chat_id", "seq", "sender", "text", "system", "created_at", "client_message_id")';

/**
 * Takes the chat's next seq and stores the message in one statement (written out: v6's QueryBuilder cannot say a
 * data-modifying CTE). The UPDATE holds the chat's row lock until commit, so concurrent posts get consecutive seqs
 * in commit order; it also moves the chat's activity time and, for a user, checks membership (no row back: no
 * chat this poster may post to) and moves the poster's read marker to its own message.
 */
const INSERT_NEXT = statement(`
  with "chat" as (
    update "chat" set "message_count" = "message_count" + 1, "last_activity_at" = $7
    where "id" = $1 and ($8::boolean or exists (select 1 from "member" where "chat_id" = $1 and "user_id" = $9))
    returning "message_count"
  ), "marker" as (
    update "member" set "last_read_seq" = "chat"."message_count" from "chat"
    where "member"."chat_id" = $1 and "member"."user_id" = $9
  )
  ${INSERT_MESSAGE}
  select $2, $1, "message_count", $3, $4, $5, $7, $6 from "chat"
  returning "seq"`);

/**
 * One LATERAL read per range, tagged with the range's position: ranges of one chat may overlap (a page and
 * `lastMessage`), and each must get exactly its own messages. Each range is an index scan on (chat_id, seq).
 */
export const RANGES = statement(`
  select "range"."i", "message".*
  from unnest($1::uuid[], $2::int[], $3::int[]) with ordinality as "range"("chat_id", "start", "end", "i")
  cross join lateral (
    select * from "message"
    where "message"."chat_id" = "range"."chat_id" and "message"."seq" between "range"."start" and "range"."end"
    order by "message"."seq"
  ) as "message"
  order by "range"."i", "message"."seq"`);

const BY_KEY = statement('select * from "message" where "chat_id" = $1 and "client_message_id" = $2');

/**
 * A live feed's next messages (one read per event for all the feeds at that position; bench W10 posts 200 a second
 * into 2,000 chats): written out, as the other hot reads, rather than built by the query builder on every call.
 */
export const AFTER = statement('select * from "message" where "chat_id" = $1 and "seq" > $2 order by "seq" limit $3');

export class MessageRepository {
  constructor(private readonly em: EntityManager) {}

  /** The messages of each range, in seq order. */
  async findRanges(ranges: readonly SeqRange[]): Promise<Message[][]> {
    const rows = await execute(this.em, RANGES, [ranges.map((r) => r.chatId), ranges.map((r) => r.start), ranges.map((r) => r.end)]);
    const byRange: Message[][] = ranges.map(() => []);
    const messages = toRows(this.em, Message, rows);
    rows.forEach((row, k) => byRange[Number(row.i) - 1].push(messages[k]));
    return byRange;
  }

  /** Up to `limit` messages after `afterSeq`, in seq order: what a live feed has not delivered yet. */
  async findAfter(chatId: string, afterSeq: number, limit: number): Promise<Message[]> {
    return toRows(this.em, Message, await execute(this.em, AFTER, [chatId, afterSeq, limit]));
  }

  /** The message stored under this idempotency key, if any. */
  async findByKey(chatId: string, clientMessageId: string, trx?: Transaction): Promise<Message | null> {
    const rows = await execute(this.em, BY_KEY, [chatId, clientMessageId], trx);
    return rows.length ? toRows(this.em, Message, rows)[0] : null;
  }

  /** Stores `draft` as the chat's next message and returns its seq; null when the poster may not post there. */
  async insertNext(draft: Message, poster: Viewer, trx?: Transaction): Promise<number | null> {
    const { id, chatId, sender, text, system, createdAt, clientMessageId } = draft;
    const [row] = await execute(
      this.em,
      INSERT_NEXT,
      [chatId, id, sender, text, system, clientMessageId, createdAt, poster.service, poster.userId],
      trx,
    );
    return row ? row.seq : null;
  }
}
