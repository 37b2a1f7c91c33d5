import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, type SubscribeResolverData, Subscription, UseMiddleware } from 'type-graphql';
import type { Row } from '../../db/rows';
import { type Context, scopeOf } from '../../graphql/context';
import { pageComplexity } from '../../graphql/limits';
import { limitPosts } from '../../graphql/post-limit';
import { Chat } from '../chat/chat.entity';
import type { ChatService } from '../chat/chat.service';
import { Message } from './message.entity';
import type { MessageService } from './message.service';
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
    @Ctx() context: Context,
  ): Promise<MessageConnection> {
    const scope = scopeOf(context);
    return this.messageService.page(scope, await this.chatService.get(scope, chatId), page);
  }

  @Query(() => Message, { nullable: true, description: 'The newest message of the chat, null when it is empty.' })
  async lastMessage(@Arg('chatId', () => ID) chatId: string, @Ctx() context: Context): Promise<Message | null> {
    const scope = scopeOf(context);
    return this.messageService.last(scope, await this.chatService.get(scope, chatId));
  }

  @Mutation(() => Message, { description: 'Posts a message; answers after it is committed.' })
  @UseMiddleware(limitPosts)
  postMessage(@Arg('input', () => PostMessageInput) input: PostMessageInput, @Ctx() context: Context): Promise<Message> {
    return this.messageService.post(scopeOf(context), input);
  }

  @Subscription(() => Message, {
    description:
      'Every message of the chat, in seq order, each once. With afterSeq, first the stored messages with seq > afterSeq, ' +
      'then live ones, without gap or repeat: reconnect with the last seq you received to miss nothing.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, MessageAddedArgs, SubscriptionContext>) =>
      context.messageSubscriptions.follow(args.chatId, args.afterSeq, context.viewer),
  })
  messageAdded(@Root() message: Row<Message>, @Args() _args: MessageAddedArgs): Message {
    return message;
  }

  @FieldResolver(() => Chat)
  chat(@Root() message: Row<Message>, @Ctx() context: Context): Promise<Chat> {
    return this.chatService.get(scopeOf(context), message.chatId);
  }
}
