import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Chat } from '../chat/chat.entity';

export enum ChatRole {
  OWNER = 'OWNER',
  MEMBER = 'MEMBER',
}
registerEnumType(ChatRole, { name: 'ChatRole' });

/** A user's membership of a chat, with its read marker. The key starts with chat_id, as every per-chat table's. */
@ObjectType('ChatMember', { simpleResolvers: true })
@Entity({ tableName: 'member' })
@Index({ properties: ['userId', 'chatId'] })
export class Member {
  @ManyToOne(() => Chat, { primary: true, mapToPk: true, fieldName: 'chat_id', deleteRule: 'cascade' })
  chatId!: string;

  @Field(() => ID)
  @PrimaryKey({ type: 'string', length: 100 })
  userId!: string;

  @Field(() => ChatRole)
  @Enum({ items: () => ChatRole, nativeEnumName: undefined })
  role!: ChatRole;

  @Field()
  @Property({ type: 'datetime', length: 3 })
  joinedAt!: Date;

  @Field(() => Int, { description: 'Every message with seq <= lastReadSeq counts as read by this member.' })
  @Property({ type: 'integer', default: 0 })
  lastReadSeq!: number;
}
