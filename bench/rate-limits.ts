import type { IncomingMessage } from 'node:http';
import pino from 'pino';
import { createRateLimits } from '../src/rate-limits/rate-limits';
import { clientIp, trustProxyOf } from '../src/server/client-ip';
import { perCall } from './per-call';

/**
 * What the rate limits cost on the request path, in memory and (with REDIS_URL) in Redis, at limits never reached:
 * `REDIS_URL=redis://127.0.0.1:6379 npx ts-node --transpile-only bench/rate-limits.ts`. Redis CPU is not counted.
 */
async function measure(where: string, redisUrl: string | undefined, calls: number) {
  const never = { points: 1e9, seconds: 60 };
  const limits = createRateLimits({ userPosts: never, servicePosts: never, ipRequests: never, ipConnections: never }, redisUrl, pino({ level: 'silent' }));
  if (redisUrl) await new Promise((resolve) => setTimeout(resolve, 500)); // connected by then; until then it counts in memory
  const trust = trustProxyOf(false);
  const request = { socket: { remoteAddress: '203.0.113.1' }, headers: {} } as IncomingMessage;
  await perCall(`${where}: a request (its address, then its count)`, calls, () => limits.requests(clientIp(request, trust)));
  await perCall(`${where}: a post (of one of 1,000 users)`, calls, (i) => limits.posts({ userId: `user-${i % 1000}`, service: false }));
  limits.close();
}

async function main() {
  await measure('memory', undefined, 200_000);
  if (process.env.REDIS_URL) await measure('redis', process.env.REDIS_URL, 20_000);
  else console.log('REDIS_URL is not set: measured in memory only');
}

void main();
