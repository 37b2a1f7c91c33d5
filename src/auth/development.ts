import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { AuthConfig } from './authenticator';
import { signToken } from './tokens';

const DEMO_USER = 'alice';
const DEMO_SERVICE = 'dev-service';
const DEMO_TOKEN_LIFETIME = '30d';

/**
 * The auth settings to run with. With no AUTH_* key configured (development only: config refuses that in
 * production), a random secret kept in `<dataDir>/auth-secret` (mode 0600), made on the first start and reused
 * after, so tokens minted earlier stay valid.
 */
export async function resolveAuth(config: Config, dataDir: string): Promise<AuthConfig & { generated: boolean }> {
  if (config.auth.jwtSecret || config.auth.jwksUrl) return { ...config.auth, generated: false };
  return { ...config.auth, jwtSecret: await developmentSecret(join(dataDir, 'auth-secret')), generated: true };
}

async function developmentSecret(path: string): Promise<string> {
  const existing = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing) return existing.trim();
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error; // another process made it first: use theirs
  });
  return (await readFile(path, 'utf8')).trim();
}

/** Ready-to-paste headers for a demo user and a service, logged at start-up when the secret is the generated one. */
export async function logDevelopmentTokens(logger: Logger, auth: AuthConfig): Promise<void> {
  const user = await signToken(auth, DEMO_USER, { expiresIn: DEMO_TOKEN_LIFETIME });
  const service = await signToken(auth, DEMO_SERVICE, { service: true, expiresIn: DEMO_TOKEN_LIFETIME });
  logger.info(`Demo user ${DEMO_USER} (valid ${DEMO_TOKEN_LIFETIME}): Authorization: Bearer ${user}`);
  logger.info(`Service ${DEMO_SERVICE} (valid ${DEMO_TOKEN_LIFETIME}): Authorization: Bearer ${service}`);
  logger.info('More tokens: npm run token -- <userId> [--service] [--expires 1h]');
}
