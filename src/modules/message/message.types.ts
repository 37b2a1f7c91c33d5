import { ArgsType, Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { connectionOf } from '../connection.types';
import { Message } from './message.entity';

@InputType({ description: 'A message to post; limits: sender 1-100 chars, text 1-4000 chars, clientMessageId up to 64.' })
export class NewMessageInput {
  @Field(() => String, {
    nullable: true,
    description: "A user's token decides the sender: omit it, or give the same id. A service must give it.",
  })
  sender?: string | null;

  @Field()
  text!: string;

  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Only a service may post system messages.' })
  system?: boolean | null;

  @Field(() => String, { nullable: true, description: 'Idempotency key per chat: a retry with the same key returns the stored message.' })
  clientMessageId?: string | null;
}

@InputType()
export class PostMessageInput extends NewMessageInput {
  @Field(() => ID)
  chatId!: string;
}

@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: 'Page forward: at most this many messages (1-500) after `after`.' })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => Int, { nullable: true, description: 'Page backward: at most this many messages (1-500) before `before`.' })
  last?: number | null;

  @Field(() => String, { nullable: true })
  before?: string | null;
}

@ArgsType()
export class MessageAddedArgs {
  @Field(() => ID)
  chatId!: string;

  @Field(() => Int, { nullable: true, description: 'Replay the stored messages with seq > afterSeq first (>= 0).' })
  afterSeq?: number | null;
}

export const MessageConnection = connectionOf(Message, 'Messages in seq order (oldest first) on every page.');
export type MessageConnection = InstanceType<typeof MessageConnection>;
