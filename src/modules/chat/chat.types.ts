import { ArgsType, Field, Int, ObjectType } from 'type-graphql';
import { PageInfo } from '../message/message.types';
import { Chat } from './chat.entity';

@ArgsType()
export class InboxPageArgs {
  @Field(() => Int, { nullable: true, description: 'At most this many chats (1-100, default 20) after `after`.' })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}

@ObjectType({ simpleResolvers: true })
export class ChatEdge {
  @Field()
  cursor!: string;

  @Field(() => Chat)
  node!: Chat;
}

@ObjectType({ description: 'Chats by most recent activity first.', simpleResolvers: true })
export class ChatConnection {
  @Field(() => [ChatEdge])
  edges!: ChatEdge[];

  @Field(() => [Chat])
  nodes!: Chat[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
