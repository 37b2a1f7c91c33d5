import type { EntityManager, Transaction } from '@mikro-orm/postgresql';
import { execute, statement, toRows } from '../../db/rows';
import { type ChatRole, Member } from './member.entity';

export const INBOX_FAN_OUT = 'inbox fan-out';

export interface NewMember {
  userId: string;
  role: ChatRole;
  lastReadSeq: number;
}

// Membership changes are rare and small: the QueryBuilder says them where it can. Reads by many chats at once and
// inserts that skip existing members are written out (array parameters, ON CONFLICT DO NOTHING ... RETURNING).
const BY_CHATS = statement('select * from "member" where "chat_id" = any($1::uuid[]) order by "joined_at", "user_id"');
const USER_IDS = statement(`/* ${INBOX_FAN_OUT} */ select "user_id" from "member" where "chat_id" = $1`);
const ROLE = statement('select "role" from "member" where "chat_id" = $1 and "user_id" = $2');
const COUNT = statement('select count(*)::int as "n" from "member" where "chat_id" = $1');
const ADD = statement(`
  insert into "member" ("chat_id", "user_id", "role", "joined_at", "last_read_seq")
  select $1, "user_id", $2, $3, 0 from unnest($4::text[]) as "new"("user_id")
  on conflict do nothing returning "user_id"`);
const REMOVE = statement('delete from "member" where "chat_id" = $1 and "user_id" = any($2::text[]) returning "user_id"');

export class MemberRepository {
  constructor(private readonly em: EntityManager) {}

  /** Members of each chat, by joinedAt (then user id). */
  async findByChats(chatIds: readonly string[]): Promise<Member[][]> {
    const rows = await execute(this.em, BY_CHATS, [chatIds]);
    const byChat = new Map<string, Member[]>(chatIds.map((id) => [id, []]));
    for (const member of toRows(this.em, Member, rows)) byChat.get(member.chatId)?.push(member);
    return chatIds.map((id) => byChat.get(id)!);
  }

  /**
   * The user ids of the chat's members, whom a new message concerns. Runs after the post answered, outside any
   * request: the SQL says so (INBOX_FAN_OUT) for whoever reads the statement log.
   */
  async userIdsOf(chatId: string): Promise<string[]> {
    const rows = await execute(this.em, USER_IDS, [chatId]);
    return rows.map((row) => row.user_id);
  }

  async roleOf(chatId: string, userId: string, trx?: Transaction): Promise<ChatRole | null> {
    const [row] = await execute(this.em, ROLE, [chatId, userId], trx);
    return row ? (row.role as ChatRole) : null;
  }

  async count(chatId: string, trx: Transaction): Promise<number> {
    const [row] = await execute(this.em, COUNT, [chatId], trx);
    return row.n;
  }

  /** Adds those of `userIds` who are not members yet; returns the ones added. */
  async add(chatId: string, userIds: readonly string[], role: ChatRole, joinedAt: Date, trx: Transaction): Promise<string[]> {
    const rows = await execute(this.em, ADD, [chatId, role, joinedAt, userIds], trx);
    return rows.map((row) => row.user_id);
  }

  /** Removes those of `userIds` who are members; returns the ones removed. */
  async remove(chatId: string, userIds: readonly string[], trx?: Transaction): Promise<string[]> {
    const rows = await execute(this.em, REMOVE, [chatId, userIds], trx);
    return rows.map((row) => row.user_id);
  }

  /** Moves the marker forward to `seq` (never back); true when it moved. Row locks order concurrent calls. */
  async markRead(chatId: string, userId: string, seq: number): Promise<boolean> {
    const moved = await this.em
      .createQueryBuilder(Member)
      .update({ lastReadSeq: seq })
      .where({ chatId, userId, lastReadSeq: { $lt: seq } })
      .execute('run');
    return (moved as { affectedRows: number }).affectedRows > 0;
  }

  /** Whether the user is still a member (a live feed re-checks after a removal or a lost doorbell). */
  async isMember(chatId: string, userId: string): Promise<boolean> {
    return (await this.roleOf(chatId, userId)) !== null;
  }
}
