import type { FastifyInstance } from 'fastify';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { type AuthConfig, MAX_USER_ID_LENGTH } from '../auth/authenticator';
import { signToken } from '../auth/tokens';

/** Where `npm run build` puts the page: dist/web, seen from dist/src/server (built) or from src/server (ts-node, jest). */
const projectOrBuild = join(__dirname, '..', '..');
export const WEB_ROOT = basename(projectOrBuild) === 'dist' ? join(projectOrBuild, 'web') : join(projectOrBuild, 'dist', 'web');

/** The page's files by URL: a fixed list, so no request can name another file. */
const FILES: Record<string, [file: string, contentType: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

const DEV_TOKEN_LIFETIME = '1d';
const devTokenRequest = z.object({ userId: z.string().min(1).max(MAX_USER_ID_LENGTH) });

/**
 * The chat page (web/, built into dist/web), read once at start and served from memory. With `devAuth` (development
 * with a secret), `POST /dev/token` mints a user token for a name, and the page offers sign-in by name.
 */
export async function registerChatPage(app: FastifyInstance, options: { logger: Logger; devAuth?: AuthConfig }): Promise<void> {
  const { logger, devAuth } = options;
  if (devAuth) registerDevTokens(app, devAuth);
  const files = await Promise.all(
    Object.entries(FILES).map(async ([url, [file, contentType]]) => [url, contentType, await readFile(join(WEB_ROOT, file), 'utf8').catch(() => undefined)] as const),
  );
  if (files.some(([, , body]) => body === undefined)) {
    logger.warn({ dir: WEB_ROOT }, 'the chat page is not built: run `npm run build`');
    return;
  }
  for (const [url, contentType, body] of files) {
    const content = url === '/' && devAuth ? body!.replace('<body>', '<body data-dev-sign-in>') : body!;
    app.get(url, (_request, reply) => reply.header('content-type', contentType).header('cache-control', 'no-cache').send(content));
  }
}

/** Development only: anyone who reaches the port may be anyone, as with the tokens `npm start` logs. */
function registerDevTokens(app: FastifyInstance, auth: AuthConfig): void {
  app.post('/dev/token', async (request, reply) => {
    const parsed = devTokenRequest.safeParse(request.body);
    if (!parsed.success) {
      const message = `Send {"userId": "<1-${MAX_USER_ID_LENGTH} characters>"} as JSON`;
      return reply.code(400).send({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
    }
    return { token: await signToken(auth, parsed.data.userId, { expiresIn: DEV_TOKEN_LIFETIME }) };
  });
}
