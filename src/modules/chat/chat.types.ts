import { ArgsType, Field, Int } from 'type-graphql';
import { connectionOf } from '../connection.types';
import { Chat } from './chat.entity';

@ArgsType()
export class InboxPageArgs {
  @Field(() => Int, { nullable: true, description: 'At most this many chats (1-100, default 20) after `after`.' })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}

export const ChatConnection = connectionOf(Chat, 'Chats by most recent activity first.');
export type ChatConnection = InstanceType<typeof ChatConnection>;
