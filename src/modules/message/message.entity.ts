import { Entity, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Chat } from '../chat/chat.entity';

@ObjectType({ simpleResolvers: true })
@Entity()
@Unique({ properties: ['chatId', 'seq'] })
@Unique({ properties: ['chatId', 'clientMessageId'] })
export class Message {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  /** First in the primary key, as in every per-chat table: the tables can be distributed by chat_id. */
  @Field(() => ID)
  @ManyToOne(() => Chat, { primary: true, mapToPk: true, fieldName: 'chat_id', deleteRule: 'cascade' })
  chatId!: string;

  @Field(() => Int, { description: "1-based position in its chat: gap-free, unique, in commit order." })
  @Property({ type: 'integer' })
  seq!: number;

  @Field()
  @Property({ type: 'string', length: 100 })
  sender!: string;

  @Field()
  @Property({ type: 'text' })
  text!: string;

  @Field()
  @Property({ type: 'boolean', default: false })
  system!: boolean;

  @Field()
  @Property({ type: 'datetime', length: 3 })
  createdAt!: Date;

  @Field(() => String, { nullable: true, description: "The client's idempotency key, when it sent one." })
  @Property({ type: 'string', length: 64, nullable: true })
  clientMessageId?: string | null;
}
