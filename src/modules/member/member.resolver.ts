import { Arg, Ctx, ID, Int, Mutation, Resolver } from 'type-graphql';
import { type Context, scopeOf } from '../../graphql/context';
import { Chat } from '../chat/chat.entity';
import { Member } from './member.entity';
import type { MemberService } from './member.service';

@Resolver(() => Member)
export class MemberResolver {
  constructor(private readonly memberService: MemberService) {}

  @Mutation(() => Chat, { description: "Adds members (at most 100 user ids a call), by the chat's OWNER or a service." })
  addMembers(
    @Arg('chatId', () => ID) chatId: string,
    @Arg('userIds', () => [ID]) userIds: string[],
    @Ctx() context: Context,
  ): Promise<Chat> {
    return this.memberService.add(scopeOf(context), chatId, userIds);
  }

  @Mutation(() => Chat, { description: "Removes members, by the chat's OWNER or a service; their live feeds of the chat end." })
  removeMembers(
    @Arg('chatId', () => ID) chatId: string,
    @Arg('userIds', () => [ID]) userIds: string[],
    @Ctx() context: Context,
  ): Promise<Chat> {
    return this.memberService.remove(scopeOf(context), chatId, userIds);
  }

  @Mutation(() => Boolean, { description: 'The caller leaves the chat.' })
  leaveChat(@Arg('chatId', () => ID) chatId: string, @Ctx() context: Context): Promise<boolean> {
    return this.memberService.leave(scopeOf(context), chatId);
  }

  @Mutation(() => Chat, { description: "Moves the caller's read marker forward only; 0 <= seq <= messageCount." })
  markRead(@Arg('chatId', () => ID) chatId: string, @Arg('seq', () => Int) seq: number, @Ctx() context: Context): Promise<Chat> {
    return this.memberService.markRead(scopeOf(context), chatId, seq);
  }
}
