import type { Transaction } from '@mikro-orm/postgresql';
import { badInput, forbidden, notFound, uuidOf } from '../../errors';
import type { Chat } from '../chat/chat.entity';
import type { ChatService } from '../chat/chat.service';
import type { Scope } from '../scope';
import type { InboxService } from './inbox.service';
import { ChatRole, type Member } from './member.entity';
import { MEMBER_LIMITS, validUserIds } from './member.rules';

/** Who belongs to a chat, and read markers. Changes take the chat's row lock, so they apply one at a time. */
export class MemberService {
  constructor(
    private readonly chats: ChatService,
    private readonly inbox: InboxService,
  ) {}

  members(scope: Scope, chat: Chat): Promise<Member[]> {
    return scope.loaders.members.load(chat.id);
  }

  /** By the chat's OWNER or a service; at most MEMBER_LIMITS.perChat members in all. */
  async add(scope: Scope, id: string, userIds: readonly string[]): Promise<Chat> {
    const chatId = uuidOf(id, 'chatId');
    const newcomers = validUserIds(userIds, 'userIds');
    const added = await this.asManager(scope, chatId, async (trx) => {
      const { members } = scope.repositories;
      const joined = await members.add(chatId, newcomers, ChatRole.MEMBER, new Date(), trx);
      const count = await members.count(chatId, trx);
      if (count > MEMBER_LIMITS.perChat) {
        throw badInput(`a chat has at most ${MEMBER_LIMITS.perChat} members; this would make ${count}`);
      }
      return joined;
    });
    this.inbox.notify(added, chatId, 'JOINED');
    return this.chats.get(scope, chatId);
  }

  /** By the chat's OWNER or a service; the caller leaves with leaveChat instead. */
  async remove(scope: Scope, id: string, userIds: readonly string[]): Promise<Chat> {
    const chatId = uuidOf(id, 'chatId');
    const leaving = validUserIds(userIds, 'userIds');
    if (!scope.viewer.service && leaving.includes(scope.viewer.userId)) {
      throw badInput('to remove yourself, use leaveChat');
    }
    const removed = await this.asManager(scope, chatId, (trx) => scope.repositories.members.remove(chatId, leaving, trx));
    this.inbox.notify(removed, chatId, 'LEFT');
    return this.chats.get(scope, chatId);
  }

  async leave(scope: Scope, id: string): Promise<boolean> {
    const chatId = uuidOf(id, 'chatId');
    if (scope.viewer.service) throw badInput('a service is not a member of any chat');
    const [left] = await scope.repositories.members.remove(chatId, [scope.viewer.userId]);
    if (!left) throw notFound(`chat ${chatId} does not exist`);
    this.inbox.notify([left], chatId, 'LEFT');
    return true;
  }

  /** Moves the caller's read marker forward to `seq` (a lower one changes nothing). */
  async markRead(scope: Scope, id: string, seq: number): Promise<Chat> {
    const chat = await this.chats.get(scope, id);
    if (scope.viewer.service) throw badInput('a service has no read marker');
    if (!Number.isInteger(seq) || seq < 0 || seq > chat.messageCount) {
      throw badInput(`seq must be between 0 and the chat's messageCount (${chat.messageCount}), got ${seq}`);
    }
    if (await scope.repositories.members.markRead(chat.id, scope.viewer.userId, seq)) {
      this.inbox.notify([scope.viewer.userId], chat.id, 'READ');
    }
    return { ...chat, viewerLastReadSeq: Math.max(chat.viewerLastReadSeq, seq) };
  }

  /** Runs `change` in a transaction holding the chat's lock, if the caller is a service or the chat's OWNER. */
  private asManager<T>(scope: Scope, chatId: string, change: (trx: Transaction) => Promise<T>): Promise<T> {
    const { viewer, em, repositories } = scope;
    return em.getConnection().transactional(async (trx) => {
      if (!(await repositories.chats.lockVisible(chatId, viewer, trx))) throw notFound(`chat ${chatId} does not exist`);
      if (!viewer.service && (await repositories.members.roleOf(chatId, viewer.userId, trx)) !== ChatRole.OWNER) {
        throw forbidden("only the chat's OWNER or a service may change its members");
      }
      return change(trx);
    });
  }
}
