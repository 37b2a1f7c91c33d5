import proxyAddr from '@fastify/proxy-addr';
import { z } from 'zod';
import type { AuthConfig } from './auth/authenticator';
import type { RateLimit, RateLimitsConfig } from './rate-limits/rate-limits';

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** `<points>/<seconds>s` (`30/10s`: 30 in each 10 seconds), or `0` for no limit. */
const rateLimit = (fallback: string) =>
  z
    .string()
    .regex(/^(0|[1-9]\d*\/[1-9]\d*s)$/, 'must be <points>/<seconds>s, e.g. 30/10s, or 0 for no limit')
    .default(fallback)
    .transform((value): RateLimit | null => {
      if (value === '0') return null;
      const [points, seconds] = value.slice(0, -1).split('/').map(Number);
      return { points, seconds };
    });

/** `true`/`false`, or the proxies' addresses: IPs, CIDR ranges and proxy-addr's `loopback`, `linklocal`, `uniquelocal`. */
const trustProxy = z
  .string()
  .default('false')
  .transform((value) => (['true', '1', 'false', '0'].includes(value) ? value === 'true' || value === '1' : value.split(',').map((a) => a.trim())))
  .superRefine((value, ctx) => {
    if (typeof value === 'boolean') return;
    try {
      proxyAddr.compile(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `must be true, false or addresses: ${(error as Error).message}` });
    }
  });

const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    HOST: z.string().min(1).default('0.0.0.0'),
    DATABASE_URL: z.string().url().optional(),
    DB_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10),
    DB_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
    REDIS_URL: z.string().url().optional(),
    CORS_ORIGINS: z.string().optional(),
    GRAPHQL_INTROSPECTION: flag.optional(),
    GRAPHQL_LANDING_PAGE: flag.optional(),
    WEB_CHAT: flag.optional(),
    AUTH_JWT_SECRET: z
      .string()
      .refine((secret) => Buffer.byteLength(secret) >= 32, 'must be at least 32 bytes')
      .optional(),
    AUTH_JWKS_URL: z.string().url().optional(),
    AUTH_ISSUER: z.string().min(1).optional(),
    AUTH_AUDIENCE: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(6_000),
    RATE_LIMIT_USER_POSTS: rateLimit('30/10s'),
    RATE_LIMIT_SERVICE_POSTS: rateLimit('1000/10s'),
    RATE_LIMIT_IP_REQUESTS: rateLimit('1000/10s'),
    RATE_LIMIT_IP_CONNECTIONS: rateLimit('100/10s'),
    TRUST_PROXY: trustProxy,
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.DATABASE_URL) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'is required when NODE_ENV=production' });
    }
    if (env.NODE_ENV === 'production' && !env.AUTH_JWT_SECRET && !env.AUTH_JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_JWT_SECRET'], message: 'or AUTH_JWKS_URL is required when NODE_ENV=production' });
    }
    if (env.METRICS_PORT !== undefined && env.METRICS_PORT !== 0 && env.METRICS_PORT === env.PORT) {
      ctx.addIssue({ code: 'custom', path: ['METRICS_PORT'], message: 'must differ from PORT (unset serves /metrics on PORT)' });
    }
    if (env.AUTH_JWT_SECRET && env.AUTH_JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_JWT_SECRET'], message: 'and AUTH_JWKS_URL are exclusive: set one' });
    }
  });

export interface Config {
  readonly production: boolean;
  readonly port: number;
  /** Where `GET /metrics` answers on a listener of its own (on `host`); unset means on `port`, beside GraphQL. */
  readonly metricsPort?: number;
  readonly host: string;
  /** Unset means: start the embedded PostgreSQL (development only). */
  readonly databaseUrl?: string;
  readonly dbPoolSize: number;
  /** The longest a request waits for a database connection, a lock or a statement before SERVICE_UNAVAILABLE. */
  readonly dbTimeoutMs: number;
  readonly embeddedPgPort: number;
  /** Unset means: in-process pub/sub (a single instance). */
  readonly redisUrl?: string;
  /** `true` reflects any origin (development); otherwise the allowed origins. */
  readonly corsOrigins: true | readonly string[];
  readonly introspection: boolean;
  readonly landingPage: boolean;
  /** The chat page on `GET /` (server/web.ts). */
  readonly webChat: boolean;
  /** How bearer tokens are verified; without a key, development makes a secret of its own (auth/development.ts). */
  readonly auth: AuthConfig;
  readonly logLevel: string;
  /** After SIGTERM, how long to keep accepting connections (answering 503) before closing the listener. */
  readonly shutdownGraceMs: number;
  readonly rateLimits: RateLimitsConfig;
  /** Whose X-Forwarded-For to believe for the client's address: nobody's, everybody's, or these proxies'. */
  readonly trustProxy: boolean | readonly string[];
}

export class ConfigError extends Error {}

/** The only reader of the environment: validates it and returns a frozen, typed config. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const origins = e.CORS_ORIGINS?.split(',').map((o) => o.trim()).filter(Boolean);
  return Object.freeze({
    production,
    port: e.PORT,
    metricsPort: e.METRICS_PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dbPoolSize: e.DB_POOL_SIZE,
    dbTimeoutMs: e.DB_TIMEOUT_MS,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    redisUrl: e.REDIS_URL,
    corsOrigins: origins ?? (production ? [] : true),
    introspection: e.GRAPHQL_INTROSPECTION ?? !production,
    landingPage: e.GRAPHQL_LANDING_PAGE ?? !production,
    webChat: e.WEB_CHAT ?? !production,
    auth: Object.freeze({ jwtSecret: e.AUTH_JWT_SECRET, jwksUrl: e.AUTH_JWKS_URL, issuer: e.AUTH_ISSUER, audience: e.AUTH_AUDIENCE }),
    logLevel: e.LOG_LEVEL,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    rateLimits: Object.freeze({
      userPosts: e.RATE_LIMIT_USER_POSTS,
      servicePosts: e.RATE_LIMIT_SERVICE_POSTS,
      ipRequests: e.RATE_LIMIT_IP_REQUESTS,
      ipConnections: e.RATE_LIMIT_IP_CONNECTIONS,
    }),
    trustProxy: e.TRUST_PROXY,
  });
}
