import 'reflect-metadata';
import { join } from 'node:path';
import { createApp } from './app';
import { logDevelopmentTokens, resolveAuth } from './auth/development';
import { loadConfig } from './config';
import { startEmbeddedPostgres } from './db/embedded-postgres';

/** The process: read config, start the database if none is configured, serve, stop cleanly on a signal. */
async function main() {
  const config = loadConfig();
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: join(process.cwd(), '.data', 'postgres'), port: config.embeddedPgPort, database: 'parley' });
  const auth = await resolveAuth(config, join(process.cwd(), '.data'));
  const app = await createApp({ ...config, auth, databaseUrl: config.databaseUrl ?? embedded!.url });
  const url = await app.listen();
  app.logger.info({ url, embeddedPostgres: Boolean(embedded) }, `Parley is serving GraphQL at ${url}`);
  if (auth.generated) await logDevelopmentTokens(app.logger, auth);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'draining and stopping');
    await app.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
