import 'reflect-metadata';
import { join } from 'node:path';
import { type App, createApp } from './app';
import { logDevelopmentTokens, resolveAuth } from './auth/development';
import { type Config, loadConfig } from './config';
import { type EmbeddedDatabase, startEmbeddedPostgres } from './db/embedded-postgres';

/**
 * The process: read config, start the database if none is configured, serve. The one owner of shutdown (Apollo's
 * and embedded-postgres's own signal handlers are off): on SIGTERM/SIGINT, readiness off and 503 for the grace period,
 * stop accepting, drain HTTP and websockets, close pub/sub and the pool, stop the embedded database, exit 0.
 */
async function main() {
  const config = loadConfig();
  const started = start(config);
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const running = await started.catch(() => undefined); // a failed start is reported (exit 1) by main's caller
    if (!running) return;
    running.app.logger.info({ signal, graceMs: config.shutdownGraceMs }, 'draining and stopping');
    await running.app.close();
    await running.embedded?.stop();
    running.app.logger.info('stopped');
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => stop(signal).catch(fail));
  }
  await started;
}

async function start(config: Config): Promise<{ app: App; embedded?: EmbeddedDatabase }> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: join(process.cwd(), '.data', 'postgres'), port: config.embeddedPgPort, database: 'parley' });
  try {
    const auth = await resolveAuth(config, join(process.cwd(), '.data'));
    const app = await createApp({ ...config, auth, databaseUrl: config.databaseUrl ?? embedded!.url });
    if (embedded?.stoppedLeftoverPid) {
      const pid = embedded.stoppedLeftoverPid;
      app.logger.warn({ pid }, `stopped the embedded PostgreSQL left running by an earlier process (pid ${pid})`);
    }
    const url = await app.listen();
    app.logger.info({ url, metricsUrl: app.metricsUrl(), embeddedPostgres: Boolean(embedded) }, `Parley is serving GraphQL at ${url}`);
    if (config.webChat) app.logger.info(`Chat page at ${new URL('/', url)}`);
    if (auth.generated) await logDevelopmentTokens(app.logger, auth);
    return { app, embedded };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

function fail(error: unknown): never {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

main().catch(fail);
