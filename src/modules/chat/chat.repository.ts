import type { EntityManager, Transaction } from '@mikro-orm/postgresql';
import type { Viewer } from '../../auth/viewer';
import { execute, statement, toRows } from '../../db/rows';
import type { NewMember } from '../member/member.repository';
import { INSERT_MESSAGE } from '../message/message.repository';
import type { Message } from '../message/message.entity';
import { Chat } from './chat.entity';

/** Where a page of `myChats` starts: after this chat in (lastActivityAt desc, id desc) order. */
export interface ActivityCursor {
  lastActivityAt: Date;
  id: string;
}

// Written-out SQL throughout: these are hot reads (one statement per request, see bench/README.md), and the
// membership check is folded into them as a join, which v6's QueryBuilder would build per call at a measurable cost.

// The ids are joined as rows, each to its chat by primary key (a LATERAL lookup the planner cannot turn into a scan
// of the chat table, whatever its statistics say; test/plans.test.ts).

/** Chats with the user's read marker; the join is the membership check (a user sees only its chats). */
export const VISIBLE_TO_USER = statement(`
  select "chat".*, "member"."last_read_seq" as "viewerLastReadSeq"
  from unnest($1::uuid[]) as "wanted"("id")
  cross join lateral (select * from "chat" where "chat"."id" = "wanted"."id" limit 1) as "chat"
  cross join lateral (
    select "last_read_seq" from "member" where "member"."chat_id" = "wanted"."id" and "member"."user_id" = $2 limit 1
  ) as "member"`);
/** A service sees every chat and has no read marker. */
export const VISIBLE_TO_SERVICE = statement(`
  select "chat".*, 0 as "viewerLastReadSeq"
  from unnest($1::uuid[]) as "wanted"("id")
  cross join lateral (select * from "chat" where "chat"."id" = "wanted"."id" limit 1) as "chat"`);

/** The chat's row, locked until the transaction ends, when the viewer may see it. */
const LOCK_FOR_USER = statement(
  'select 1 from "chat" join "member" on "member"."chat_id" = "chat"."id" and "member"."user_id" = $2 where "chat"."id" = $1 for update of "chat"',
);
const LOCK_FOR_SERVICE = statement('select 1 from "chat" where "id" = $1 for update');

/** The user's chats by activity, newest first (after a cursor when `after` is put in); member_user_id_chat_id_index finds them. */
const BY_ACTIVITY = (after: string) =>
  statement(`
  select "chat".*, "member"."last_read_seq" as "viewerLastReadSeq"
  from "member" join "chat" on "chat"."id" = "member"."chat_id"
  where "member"."user_id" = $1 ${after}
  order by "chat"."last_activity_at" desc, "chat"."id" desc
  limit $2`);
const FIRST_BY_ACTIVITY = BY_ACTIVITY('');
const NEXT_BY_ACTIVITY = BY_ACTIVITY('and ("chat"."last_activity_at", "chat"."id") < ($3::timestamptz, $4::uuid)');

/** A chat, its members and its first message in one statement, so they are stored together or not at all. */
const INSERT_CHAT = `
  with "chat" as (
    insert into "chat" ("id", "created_at", "last_activity_at", "message_count") values ($1, $2, $3, $4) returning "id"
  ), "members" as (
    insert into "member" ("chat_id", "user_id", "role", "joined_at", "last_read_seq")
    select "chat"."id", "new"."user_id", "new"."role", $2, "new"."last_read_seq"
    from "chat", unnest($5::text[], $6::text[], $7::int[]) as "new"("user_id", "role", "last_read_seq")
  )`;
const INSERT_EMPTY_CHAT = statement(`${INSERT_CHAT} select 1`);
const INSERT_CHAT_WITH_MESSAGE = statement(`${INSERT_CHAT} ${INSERT_MESSAGE} select $8, "id", 1, $9, $10, $11, $12, $13 from "chat"`);

export class ChatRepository {
  constructor(private readonly em: EntityManager) {}

  /** The chats among `ids` that the viewer may see (unknown and hidden ones are left out), in no order. */
  async findVisible(ids: readonly string[], viewer: Viewer): Promise<Chat[]> {
    const rows = viewer.service
      ? await execute(this.em, VISIBLE_TO_SERVICE, [ids])
      : await execute(this.em, VISIBLE_TO_USER, [ids, viewer.userId]);
    return toRows(this.em, Chat, rows);
  }

  /** Locks the chat row, when the viewer may see it, until `trx` ends: it orders posts and membership changes. */
  async lockVisible(chatId: string, viewer: Viewer, trx: Transaction): Promise<boolean> {
    const rows = viewer.service
      ? await execute(this.em, LOCK_FOR_SERVICE, [chatId], trx)
      : await execute(this.em, LOCK_FOR_USER, [chatId, viewer.userId], trx);
    return rows.length > 0;
  }

  /** Up to `limit` of the user's chats, most recent activity first (ties by id), after `cursor`. */
  async findByActivity(userId: string, limit: number, cursor?: ActivityCursor): Promise<Chat[]> {
    const rows = cursor
      ? await execute(this.em, NEXT_BY_ACTIVITY, [userId, limit, cursor.lastActivityAt, cursor.id])
      : await execute(this.em, FIRST_BY_ACTIVITY, [userId, limit]);
    return toRows(this.em, Chat, rows);
  }

  /** Stores a new chat with its members and, when given, its first message (seq 1). */
  async insert(chat: Chat, members: readonly NewMember[], firstMessage: Message | null): Promise<void> {
    const values = [
      chat.id,
      chat.createdAt,
      chat.lastActivityAt,
      chat.messageCount,
      members.map((m) => m.userId),
      members.map((m) => m.role),
      members.map((m) => m.lastReadSeq),
    ];
    if (!firstMessage) {
      await execute(this.em, INSERT_EMPTY_CHAT, values);
      return;
    }
    const { id, sender, text, system, createdAt, clientMessageId } = firstMessage;
    await execute(this.em, INSERT_CHAT_WITH_MESSAGE, [...values, id, sender, text, system, createdAt, clientMessageId]);
  }
}
