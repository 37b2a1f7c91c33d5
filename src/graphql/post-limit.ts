import type { MiddlewareFn } from 'type-graphql';
import { rateLimited } from '../errors';
import { type Context, scopeOf } from './context';

/**
 * On the mutations that post (postMessage, startChat): takes one post from the caller's budget (per user, or per
 * service) before the resolver runs, and answers RATE_LIMITED with `retryAfter` once it is spent. Each root field
 * takes its own, so aliases post no more than separate requests would.
 */
export const limitPosts: MiddlewareFn<Context> = async ({ context }, next) => {
  const wait = await context.rateLimits.posts(scopeOf(context).viewer);
  if (wait) throw rateLimited(`Too many posts: retry in ${wait} s`, wait);
  return next();
};
