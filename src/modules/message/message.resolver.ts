import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, type SubscribeResolverData, Subscription } from 'type-graphql';
import type { Row } from '../../db/rows';
import type { Context } from '../../graphql/context';
import { pageComplexity } from '../../graphql/limits';
import { Chat } from '../chat/chat.entity';
import { ChatService } from '../chat/chat.service';
import { Message } from './message.entity';
import { MessageService } from './message.service';
import type { SubscriptionContext } from './message.subscription';
import { MessageAddedArgs, MessageConnection, PageArgs, PostMessageInput } from './message.types';

@Resolver(() => Message)
export class MessageResolver {
  constructor(
    private readonly chatService: ChatService,
    private readonly messageService: MessageService,
  ) {}

  @Query(() => MessageConnection, {
    description: "A page of the chat's messages, oldest first; 50 by default.",
    complexity: pageComplexity,
  })
  async messages(
    @Arg('chatId', () => ID) chatId: string,
    @Args() page: PageArgs,
    @Ctx() { loaders }: Context,
  ): Promise<MessageConnection> {
    return this.messageService.page(loaders, await this.chatService.get(loaders, chatId), page);
  }

  @Query(() => Message, { nullable: true, description: 'The newest message of the chat, null when it is empty.' })
  async lastMessage(@Arg('chatId', () => ID) chatId: string, @Ctx() { loaders }: Context): Promise<Message | null> {
    return this.messageService.last(loaders, await this.chatService.get(loaders, chatId));
  }

  @Mutation(() => Message, { description: 'Posts a message; answers after it is committed.' })
  postMessage(@Arg('input', () => PostMessageInput) input: PostMessageInput, @Ctx() { em }: Context): Promise<Message> {
    return this.messageService.post(em, input);
  }

  @Subscription(() => Message, {
    description:
      'Every message of the chat, in seq order, each once. With afterSeq, first the stored messages with seq > afterSeq, ' +
      'then live ones, without gap or repeat: reconnect with the last seq you received to miss nothing.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, MessageAddedArgs, SubscriptionContext>) =>
      context.messageSubscriptions.follow(args.chatId, args.afterSeq),
  })
  messageAdded(@Root() message: Row<Message>, @Args() _args: MessageAddedArgs): Message {
    return message;
  }

  @FieldResolver(() => Chat)
  async chat(@Root() message: Row<Message>, @Ctx() { loaders }: Context): Promise<Chat> {
    return this.chatService.get(loaders, message.chatId);
  }
}
