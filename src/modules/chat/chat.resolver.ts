import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Row } from '../../db/rows';
import type { Context } from '../../graphql/context';
import { listComplexity, pageComplexity } from '../../graphql/limits';
import { Message } from '../message/message.entity';
import { MessageService } from '../message/message.service';
import { MessageConnection, NewMessageInput, PageArgs } from '../message/message.types';
import { Chat } from './chat.entity';
import { ChatService } from './chat.service';

@Resolver(() => Chat)
export class ChatResolver {
  constructor(
    private readonly chatService: ChatService,
    private readonly messageService: MessageService,
  ) {}

  @Query(() => Chat, { nullable: true, description: 'The chat, or null when there is none with this id.' })
  chat(@Arg('id', () => ID) id: string, @Ctx() { loaders }: Context): Promise<Chat | null> {
    return this.chatService.find(loaders, id);
  }

  @Query(() => [Chat], {
    nullable: 'items',
    description: 'Chats in the order of ids, null for unknown ids; at most 100.',
    complexity: listComplexity,
  })
  chats(@Arg('ids', () => [ID]) ids: string[], @Ctx() { loaders }: Context): Promise<(Chat | null)[]> {
    return this.chatService.findMany(loaders, ids);
  }

  @Mutation(() => Chat, { description: 'Starts a chat, optionally with its first message (seq 1).' })
  startChat(
    @Arg('firstMessage', () => NewMessageInput, { nullable: true }) firstMessage: NewMessageInput | null,
    @Ctx() { em }: Context,
  ): Promise<Chat> {
    return this.chatService.start(em, firstMessage);
  }

  @FieldResolver(() => Message, { nullable: true, description: 'The newest message, null when the chat is empty.' })
  lastMessage(@Root() chat: Row<Chat>, @Ctx() { loaders }: Context): Promise<Message | null> {
    return this.messageService.last(loaders, chat);
  }

  @FieldResolver(() => MessageConnection, { complexity: pageComplexity })
  messages(@Root() chat: Row<Chat>, @Args() page: PageArgs, @Ctx() { loaders }: Context): Promise<MessageConnection> {
    return this.messageService.page(loaders, chat, page);
  }
}
