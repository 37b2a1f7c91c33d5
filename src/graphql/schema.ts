import type { GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { buildSchema } from 'type-graphql';
import { ChatResolver } from '../modules/chat/chat.resolver';
import { ChatService } from '../modules/chat/chat.service';
import { InboxResolver } from '../modules/member/inbox.resolver';
import { InboxService } from '../modules/member/inbox.service';
import { MemberResolver } from '../modules/member/member.resolver';
import { MemberService } from '../modules/member/member.service';
import { MessageResolver } from '../modules/message/message.resolver';
import { MessageService } from '../modules/message/message.service';
import { ViewerResolver } from '../modules/viewer/viewer.resolver';
import type { Metrics } from '../metrics/metrics';
import type { AppPubSub } from '../pubsub/pubsub';

/** Builds the executable schema once per app, with the services the resolvers are constructed with. */
export function createSchema(pubSub: AppPubSub, metrics: Metrics, logger?: Logger): Promise<GraphQLSchema> {
  const inbox = new InboxService(pubSub, logger);
  const messages = new MessageService(pubSub, inbox, metrics);
  const chats = new ChatService(messages, inbox);
  const members = new MemberService(chats, inbox);
  const resolvers = new Map<unknown, unknown>([
    [ChatResolver, new ChatResolver(chats, messages, members)],
    [MessageResolver, new MessageResolver(chats, messages)],
    [MemberResolver, new MemberResolver(members)],
    [InboxResolver, new InboxResolver(chats)],
    [ViewerResolver, new ViewerResolver()],
  ]);
  return buildSchema({
    resolvers: [ChatResolver, MessageResolver, MemberResolver, InboxResolver, ViewerResolver],
    container: { get: (resolverClass) => resolvers.get(resolverClass) },
    pubSub,
    validate: false,
  });
}
