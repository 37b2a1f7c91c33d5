import type { EntityManager, Transaction } from '@mikro-orm/postgresql';
import type { Viewer } from '../../auth/viewer';
import { pgArray, sqlIn, toRows } from '../../db/rows';
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
export const VISIBLE_TO_USER = `
  select "chat".*, "member"."last_read_seq" as "viewerLastReadSeq"
  from unnest(?::uuid[]) as "wanted"("id")
  cross join lateral (select * from "chat" where "chat"."id" = "wanted"."id" limit 1) as "chat"
  join "member" on "member"."chat_id" = "chat"."id" and "member"."user_id" = ?`;
/** A service sees every chat and has no read marker. */
export const VISIBLE_TO_SERVICE = `
  select "chat".*, 0 as "viewerLastReadSeq"
  from unnest(?::uuid[]) as "wanted"("id")
  cross join lateral (select * from "chat" where "chat"."id" = "wanted"."id" limit 1) as "chat"`;

/** The user's chats by activity, newest first (after a cursor when `AFTER` is put in); member_user_id_index finds them. */
const BY_ACTIVITY = (after: string) => `
  select "chat".*, "member"."last_read_seq" as "viewerLastReadSeq"
  from "member" join "chat" on "chat"."id" = "member"."chat_id"
  where "member"."user_id" = ? ${after}
  order by "chat"."last_activity_at" desc, "chat"."id" desc
  limit ?`;
const FIRST_BY_ACTIVITY = BY_ACTIVITY('');
const NEXT_BY_ACTIVITY = BY_ACTIVITY('and ("chat"."last_activity_at", "chat"."id") < (?::timestamptz, ?::uuid)');

/** A chat, its members and its first message in one statement, so they are stored together or not at all. */
const INSERT_CHAT = `
  with "chat" as (
    insert into "chat" ("id", "created_at", "last_activity_at", "message_count") values (?, ?, ?, ?) returning "id"
  ), "members" as (
    insert into "member" ("chat_id", "user_id", "role", "joined_at", "last_read_seq")
    select "chat"."id", "new"."user_id", "new"."role", ?, "new"."last_read_seq"
    from "chat", unnest(?::text[], ?::text[], ?::int[]) as "new"("user_id", "role", "last_read_seq")
  )`;

export class ChatRepository {
  constructor(private readonly em: EntityManager) {}

  /** The chats among `ids` that the viewer may see (unknown and hidden ones are left out), in no order. */
  async findVisible(ids: readonly string[], viewer: Viewer): Promise<Chat[]> {
    const rows = viewer.service
      ? await this.em.execute(VISIBLE_TO_SERVICE, [pgArray(ids)])
      : await this.em.execute(VISIBLE_TO_USER, [pgArray(ids), viewer.userId]);
    return toRows(this.em, Chat, rows);
  }

  /** Locks the chat row, when the viewer may see it, until `trx` ends: it orders posts and membership changes. */
  async lockVisible(chatId: string, viewer: Viewer, trx: Transaction): Promise<boolean> {
    const visible = viewer.service
      ? 'select 1 from "chat" where "id" = ? for update'
      : 'select 1 from "chat" join "member" on "member"."chat_id" = "chat"."id" and "member"."user_id" = ? where "chat"."id" = ? for update of "chat"';
    const params = viewer.service ? [chatId] : [viewer.userId, chatId];
    return (await sqlIn(this.em, trx)(visible, params)).length > 0;
  }

  /** Up to `limit` of the user's chats, most recent activity first (ties by id), after `cursor`. */
  async findByActivity(userId: string, limit: number, cursor?: ActivityCursor): Promise<Chat[]> {
    const rows = cursor
      ? await this.em.execute(NEXT_BY_ACTIVITY, [userId, cursor.lastActivityAt, cursor.id, limit])
      : await this.em.execute(FIRST_BY_ACTIVITY, [userId, limit]);
    return toRows(this.em, Chat, rows);
  }

  /** Stores a new chat with its members and, when given, its first message (seq 1). */
  async insert(chat: Chat, members: readonly NewMember[], firstMessage: Message | null): Promise<void> {
    const params = [
      chat.id,
      chat.createdAt,
      chat.lastActivityAt,
      chat.messageCount,
      chat.createdAt,
      pgArray(members.map((m) => m.userId)),
      pgArray(members.map((m) => m.role)),
      pgArray(members.map((m) => m.lastReadSeq)),
    ];
    if (!firstMessage) {
      await this.em.execute(`${INSERT_CHAT} select 1`, params);
      return;
    }
    const { id, sender, text, system, createdAt, clientMessageId } = firstMessage;
    await this.em.execute(`${INSERT_CHAT} ${INSERT_MESSAGE} select ?, "id", 1, ?, ?, ?, ?, ? from "chat"`, [
      ...params,
      id,
      sender,
      text,
      system,
      createdAt,
      clientMessageId,
    ]);
  }
}
