import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { ChatResolver } from '../modules/chat/chat.resolver';
import { ChatService } from '../modules/chat/chat.service';
import { MessageResolver } from '../modules/message/message.resolver';
import { MessageService } from '../modules/message/message.service';
import { ViewerResolver } from '../modules/viewer/viewer.resolver';
import type { AppPubSub } from '../pubsub/pubsub';

/** Builds the executable schema once per app, with the services the resolvers are constructed with. */
export function createSchema(pubSub: AppPubSub): Promise<GraphQLSchema> {
  const messages = new MessageService(pubSub);
  const chats = new ChatService(messages);
  const resolvers = new Map<unknown, unknown>([
    [ChatResolver, new ChatResolver(chats, messages)],
    [MessageResolver, new MessageResolver(chats, messages)],
    [ViewerResolver, new ViewerResolver()],
  ]);
  return buildSchema({
    resolvers: [ChatResolver, MessageResolver, ViewerResolver],
    container: { get: (resolverClass) => resolvers.get(resolverClass) },
    pubSub,
    validate: false,
  });
}
