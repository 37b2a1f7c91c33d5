import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Viewer } from '../auth/viewer';
import type { Chat } from './chat/chat.entity';
import { ChatRepository } from './chat/chat.repository';
import type { Member } from './member/member.entity';
import { MemberRepository } from './member/member.repository';
import type { Message } from './message/message.entity';
import { MessageRepository, type SeqRange } from './message/message.repository';

/** The repositories of one request (or one subscription event), on its own entity manager. */
export interface Repositories {
  chats: ChatRepository;
  messages: MessageRepository;
  members: MemberRepository;
}

/** Per-request batching over the repositories: every lookup of one tick becomes one SQL statement per loader. */
export interface Loaders {
  /** A chat as the viewer sees it (with its read marker); null when unknown or not visible to the viewer. */
  chat: DataLoader<string, Chat | null>;
  messageRange: DataLoader<SeqRange, Message[], string>;
  members: DataLoader<string, Member[]>;
}

/** What a service works with: who calls, and that call's entity manager, repositories and loaders. */
export interface Scope {
  viewer: Viewer;
  em: EntityManager;
  repositories: Repositories;
  loaders: Loaders;
}

export function createRepositories(em: EntityManager): Repositories {
  return { chats: new ChatRepository(em), messages: new MessageRepository(em), members: new MemberRepository(em) };
}

export function createLoaders(repositories: Repositories, viewer: Viewer): Loaders {
  const { chats, messages, members } = repositories;
  return {
    chat: new DataLoader(async (ids) => {
      const byId = new Map((await chats.findVisible(ids, viewer)).map((chat) => [chat.id, chat]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    messageRange: new DataLoader((ranges) => messages.findRanges(ranges), {
      cacheKeyFn: ({ chatId, start, end }) => `${chatId}:${start}:${end}`,
    }),
    members: new DataLoader((chatIds) => members.findByChats(chatIds)),
  };
}
