import { badInput } from '../../errors';
import { assertAtMost, assertStorable } from '../message/message.rules';

export const MEMBER_LIMITS = { perChat: 1000, perCall: 100, userId: 100 } as const;

/** Distinct, valid user ids, at most MEMBER_LIMITS.perCall of them, without `except` (the caller itself). */
export function validUserIds(userIds: readonly string[], field: string, except?: string): string[] {
  if (userIds.length > MEMBER_LIMITS.perCall) {
    throw badInput(`${field} may list at most ${MEMBER_LIMITS.perCall} user ids, got ${userIds.length}`);
  }
  userIds.forEach((userId, i) => {
    assertStorable({ [`${field}[${i}]`]: userId });
    if (userId === '') throw badInput(`${field}[${i}] must not be empty`);
    assertAtMost(`${field}[${i}]`, userId, MEMBER_LIMITS.userId);
  });
  return [...new Set(userIds)].filter((userId) => userId !== except);
}
