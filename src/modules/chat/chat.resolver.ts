import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import type { Row } from '../../db/rows';
import { type Context, scopeOf } from '../../graphql/context';
import { listComplexity, pageComplexity } from '../../graphql/limits';
import { limitPosts } from '../../graphql/post-limit';
import { Member } from '../member/member.entity';
import type { MemberService } from '../member/member.service';
import { Message } from '../message/message.entity';
import type { MessageService } from '../message/message.service';
import { MessageConnection, NewMessageInput, PageArgs } from '../message/message.types';
import { Chat } from './chat.entity';
import type { ChatService } from './chat.service';
import { ChatConnection, InboxPageArgs } from './chat.types';

@Resolver(() => Chat)
export class ChatResolver {
  constructor(
    private readonly chatService: ChatService,
    private readonly messageService: MessageService,
    private readonly memberService: MemberService,
  ) {}

  @Query(() => Chat, { nullable: true, description: 'The chat, or null when there is none with this id that the caller may see.' })
  chat(@Arg('id', () => ID) id: string, @Ctx() context: Context): Promise<Chat | null> {
    return this.chatService.find(scopeOf(context), id);
  }

  @Query(() => [Chat], {
    nullable: 'items',
    description: 'Chats in the order of ids, null for unknown or not visible ids; at most 100.',
    complexity: listComplexity,
  })
  chats(@Arg('ids', () => [ID]) ids: string[], @Ctx() context: Context): Promise<(Chat | null)[]> {
    return this.chatService.findMany(scopeOf(context), ids);
  }

  @Query(() => ChatConnection, {
    description: "The caller's chats, most recent activity first; 20 by default, at most 100 a page.",
    complexity: pageComplexity,
  })
  myChats(@Args() { first, after }: InboxPageArgs, @Ctx() context: Context): Promise<ChatConnection> {
    return this.chatService.myChats(scopeOf(context), first, after);
  }

  @Mutation(() => Chat, {
    description:
      'Starts a chat, optionally with its first message (seq 1). A user who starts a chat is its OWNER; `members` ' +
      '(at most 100 user ids) join as MEMBER.',
  })
  @UseMiddleware(limitPosts)
  startChat(
    @Arg('firstMessage', () => NewMessageInput, { nullable: true }) firstMessage: NewMessageInput | null,
    @Arg('members', () => [ID], { nullable: true }) members: string[] | null,
    @Ctx() context: Context,
  ): Promise<Chat> {
    return this.chatService.start(scopeOf(context), firstMessage, members ?? []);
  }

  @FieldResolver(() => Message, { nullable: true, description: 'The newest message, null when the chat is empty.' })
  lastMessage(@Root() chat: Row<Chat>, @Ctx() context: Context): Promise<Message | null> {
    return this.messageService.last(scopeOf(context), chat);
  }

  @FieldResolver(() => MessageConnection, { complexity: pageComplexity })
  messages(@Root() chat: Row<Chat>, @Args() page: PageArgs, @Ctx() context: Context): Promise<MessageConnection> {
    return this.messageService.page(scopeOf(context), chat, page);
  }

  @FieldResolver(() => [Member], { description: 'Ordered by joinedAt; a chat has at most 1,000 members.' })
  members(@Root() chat: Row<Chat>, @Ctx() context: Context): Promise<Member[]> {
    return this.memberService.members(scopeOf(context), chat);
  }

  @FieldResolver(() => Int, { description: 'messageCount - viewerLastReadSeq (0 for a service).' })
  unreadCount(@Root() chat: Row<Chat>, @Ctx() context: Context): number {
    return scopeOf(context).viewer.service ? 0 : Math.max(0, chat.messageCount - chat.viewerLastReadSeq);
  }
}
