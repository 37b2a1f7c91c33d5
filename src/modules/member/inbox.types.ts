import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Chat } from '../chat/chat.entity';

/** The same names as the pub/sub event's `reason`, so an event is an InboxUpdate as it is. */
export enum InboxReason {
  MESSAGE = 'MESSAGE',
  JOINED = 'JOINED',
  LEFT = 'LEFT',
  READ = 'READ',
}
registerEnumType(InboxReason, {
  name: 'InboxReason',
  valuesConfig: {
    MESSAGE: { description: 'A message was posted to the chat.' },
    JOINED: { description: 'The caller was added to the chat (or started it).' },
    LEFT: { description: 'The caller left or was removed; `chat` is then null.' },
    READ: { description: "The caller's read marker moved (e.g. from another device)." },
  },
});

@ObjectType({ simpleResolvers: true })
export class InboxUpdate {
  @Field(() => ID)
  chatId!: string;

  @Field(() => InboxReason)
  reason!: InboxReason;

  @Field(() => Chat, { nullable: true, description: 'The chat as the caller now sees it; null after LEFT.' })
  chat!: Chat | null;
}
