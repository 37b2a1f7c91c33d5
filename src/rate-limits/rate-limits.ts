import Redis from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Viewer } from '../auth/viewer';

/** At most `points` in each window of `seconds` (a fixed window, as rate-limiter-flexible counts). */
export interface RateLimit {
  readonly points: number;
  readonly seconds: number;
}

/** Each limit, or null for none. */
export interface RateLimitsConfig {
  /** postMessage and startChat of one user. */
  readonly userPosts: RateLimit | null;
  /** postMessage and startChat of one service (a backend posting for many people). */
  readonly servicePosts: RateLimit | null;
  /** HTTP requests from one client address. */
  readonly ipRequests: RateLimit | null;
  /** Websocket connection attempts (upgrades) from one client address. */
  readonly ipConnections: RateLimit | null;
}

/**
 * Takes one point of `key`'s budget. Resolves undefined when there was one, else with the whole seconds (at least 1)
 * until the window ends and there is.
 */
export type Limiter = (key: string) => Promise<number | undefined>;

export interface RateLimits {
  posts(viewer: Viewer): Promise<number | undefined>;
  requests: Limiter;
  connections: Limiter;
  close(): void;
}

/** A Redis call of a limiter that takes longer than this counts in memory instead. */
const REDIS_TIMEOUT_MS = 500;

/**
 * The limits, counted in Redis when `redisUrl` is set (so they hold across instances), in memory otherwise. While Redis
 * is unreachable or slow, each instance counts in its own memory with the same limits (rate-limiter-flexible's
 * insurance limiter): the budget is then per instance, and nobody is refused for Redis being away.
 */
export function createRateLimits(config: RateLimitsConfig, redisUrl: string | undefined, logger: Logger): RateLimits {
  // No offline queue: a call while disconnected fails at once and falls to memory, rather than waiting for Redis.
  const redis = redisUrl ? new Redis(redisUrl, { enableOfflineQueue: false, commandTimeout: REDIS_TIMEOUT_MS }) : undefined;
  redis?.on('error', (error) => logger.warn({ err: error, client: 'rate-limits' }, 'redis connection error'));
  const limiter = (name: string, limit: RateLimit | null): Limiter => {
    if (!limit) return async () => undefined;
    const options = { keyPrefix: `parley:rate:${name}`, points: limit.points, duration: limit.seconds };
    const counter = redis
      ? new RateLimiterRedis({
          ...options,
          storeClient: redis,
          rejectIfRedisNotReady: true,
          // A key over its limit is refused from memory for the rest of its window, without asking Redis each time.
          inMemoryBlockOnConsumed: limit.points,
          insuranceLimiter: new RateLimiterMemory(options),
        })
      : new RateLimiterMemory(options);
    return (key) =>
      counter.consume(key).then(
        () => undefined,
        (refused: unknown) => {
          if (refused instanceof RateLimiterRes) return Math.max(1, Math.ceil(refused.msBeforeNext / 1000));
          throw refused;
        },
      );
  };
  const userPosts = limiter('posts:user', config.userPosts);
  const servicePosts = limiter('posts:service', config.servicePosts);
  return {
    posts: (viewer) => (viewer.service ? servicePosts : userPosts)(viewer.userId),
    requests: limiter('requests:ip', config.ipRequests),
    connections: limiter('connections:ip', config.ipConnections),
    close: () => redis?.disconnect(),
  };
}
