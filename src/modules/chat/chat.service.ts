import { randomUUID } from 'node:crypto';
import { badInput, notFound, uuidOf } from '../../errors';
import type { InboxService } from '../member/inbox.service';
import { ChatRole } from '../member/member.entity';
import type { NewMember } from '../member/member.repository';
import { validUserIds } from '../member/member.rules';
import type { Message } from '../message/message.entity';
import { type NewMessage, validateMessage } from '../message/message.rules';
import type { MessageService } from '../message/message.service';
import { type Page, pageOf } from '../page';
import type { Scope } from '../scope';
import type { Chat } from './chat.entity';
import { decodeActivityCursor, encodeActivityCursor } from './chat.rules';

export const MAX_CHATS_PER_QUERY = 100;
export const INBOX_PAGE = { default: 20, max: 100 } as const;

export class ChatService {
  constructor(
    private readonly messages: MessageService,
    private readonly inbox: InboxService,
  ) {}

  /**
   * Creates a chat, with its members and, when given, its first message (seq 1), in one statement. A user who
   * starts a chat is its OWNER (and has read its own first message); `memberIds` join as MEMBER.
   */
  async start(scope: Scope, firstMessage: NewMessage | null, memberIds: readonly string[] = []): Promise<Chat> {
    const { viewer } = scope;
    const content = firstMessage ? validateMessage(firstMessage, viewer) : null;
    const invited = validUserIds(memberIds, 'members', viewer.service ? undefined : viewer.userId);
    const now = new Date();
    const chat: Chat = { id: randomUUID(), createdAt: now, lastActivityAt: now, messageCount: content ? 1 : 0, viewerLastReadSeq: 0 };
    const members: NewMember[] = invited.map((userId) => ({ userId, role: ChatRole.MEMBER, lastReadSeq: 0 }));
    if (!viewer.service) {
      chat.viewerLastReadSeq = chat.messageCount;
      members.unshift({ userId: viewer.userId, role: ChatRole.OWNER, lastReadSeq: chat.messageCount });
    }
    const message: Message | null = content && { id: randomUUID(), chatId: chat.id, seq: 1, ...content, createdAt: now };
    await scope.repositories.chats.insert(chat, members, message);
    const stored = members.map((m) => m.userId);
    this.inbox.notify(stored, chat.id, 'JOINED');
    if (message) this.messages.announce(scope, message, stored); // the members it stored: no lookup
    return chat;
  }

  /** The chat as the caller sees it; null when unknown or not visible (the two are indistinguishable). */
  async find(scope: Scope, id: string): Promise<Chat | null> {
    return scope.loaders.chat.load(uuidOf(id, 'id'));
  }

  async get(scope: Scope, id: string): Promise<Chat> {
    const chatId = uuidOf(id, 'chatId');
    const chat = await scope.loaders.chat.load(chatId);
    if (!chat) throw notFound(`chat ${chatId} does not exist`);
    return chat;
  }

  async findMany(scope: Scope, ids: readonly string[]): Promise<(Chat | null)[]> {
    if (ids.length > MAX_CHATS_PER_QUERY) {
      throw badInput(`ids may list at most ${MAX_CHATS_PER_QUERY} chats, got ${ids.length}`);
    }
    const chatIds = ids.map((id, i) => uuidOf(id, `ids[${i}]`));
    return Promise.all(chatIds.map((id) => scope.loaders.chat.load(id)));
  }

  /** The caller's chats, most recent activity first (ties by id); a service is a member of none. */
  async myChats(scope: Scope, first?: number | null, after?: string | null): Promise<Page<Chat>> {
    const size = first ?? INBOX_PAGE.default;
    if (!Number.isInteger(size) || size < 1 || size > INBOX_PAGE.max) {
      throw badInput(`first must be between 1 and ${INBOX_PAGE.max}, got ${size}`);
    }
    const cursor = after != null ? decodeActivityCursor(after, 'after') : undefined;
    const found = scope.viewer.service ? [] : await scope.repositories.chats.findByActivity(scope.viewer.userId, size + 1, cursor);
    return pageOf(found.slice(0, size), encodeActivityCursor, { hasNextPage: found.length > size, hasPreviousPage: cursor !== undefined });
  }
}
