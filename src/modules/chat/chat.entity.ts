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

  /** The seq of the newest message; bumped under a row lock by every post (see MessageService.post). */
  @Field(() => Int, { description: 'Number of messages; equals the seq of the newest message (0 when empty).' })
  @Property({ type: 'integer', default: 0 })
  messageCount!: number;
}
