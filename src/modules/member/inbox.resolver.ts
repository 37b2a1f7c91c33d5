import { Ctx, FieldResolver, Resolver, Root, type SubscribeResolverData, Subscription } from 'type-graphql';
import type { Row } from '../../db/rows';
import { type Context, scopeOf } from '../../graphql/context';
import type { InboxEvent } from '../../pubsub/pubsub';
import { Chat } from '../chat/chat.entity';
import type { ChatService } from '../chat/chat.service';
import type { SubscriptionContext } from '../message/message.subscription';
import { InboxUpdate } from './inbox.types';

@Resolver(() => InboxUpdate)
export class InboxResolver {
  constructor(private readonly chatService: ChatService) {}

  @Subscription(() => InboxUpdate, {
    description:
      "The caller's chats as they change: the newest state of each, for an inbox view. A state feed: after a " +
      'reconnect, re-read myChats.',
    topics: 'INBOX',
    topicId: ({ context }: SubscribeResolverData<unknown, unknown, SubscriptionContext>) => context.viewer.userId,
  })
  inboxUpdated(@Root() event: InboxEvent): InboxEvent {
    return event;
  }

  /** Read when the event is delivered, as the caller sees the chat then (null once it left). */
  @FieldResolver(() => Chat, { nullable: true })
  chat(@Root() event: Row<InboxUpdate>, @Ctx() context: Context): Promise<Chat | null> {
    return this.chatService.find(scopeOf(context), event.chatId);
  }
}
