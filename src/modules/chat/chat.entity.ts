import { Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({ simpleResolvers: true })
@Entity()
export class Chat {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Field()
  @Property({ type: 'datetime', length: 3 })
  createdAt!: Date;

  /** Moves with every message, in the statement that takes its seq (see message.repository.ts). */
  @Field({ description: 'createdAt of the newest message, or of the chat while it is empty.' })
  @Property({ type: 'datetime', length: 3 })
  lastActivityAt!: Date;

  /** The seq of the newest message; bumped under a row lock by every post (see message.repository.ts). */
  @Field(() => Int, { description: 'Number of messages; equals the seq of the newest message (0 when empty).' })
  @Property({ type: 'integer', default: 0 })
  messageCount!: number;

  /** Not a column: the caller's read marker, read with the chat in the same statement (chat.repository.ts). */
  @Field(() => Int, { description: "The caller's read marker (0 for a service)." })
  viewerLastReadSeq!: number;
}
