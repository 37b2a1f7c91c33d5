import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startEmbeddedPostgres } from '../db/embedded-postgres';
import { TEST_JWT_SECRET } from './tokens';

/**
 * Tests run against DATABASE_URL when set (each test file creates and drops its own database on that server);
 * otherwise against a throwaway embedded PostgreSQL, started here once for the run. The chat page is bundled from its
 * current sources first.
 */
export default async function globalSetup(): Promise<void> {
  process.env.LOG_LEVEL ??= 'silent';
  process.env.AUTH_JWT_SECRET ??= TEST_JWT_SECRET; // for app instances the tests start as processes
  await promisify(execFile)(process.execPath, [join(__dirname, '..', '..', 'web', 'build.js')]); // the chat page they serve
  if (process.env.DATABASE_URL) return;
  const dataDir = join(await mkdtemp(join(tmpdir(), 'parley-test-')), 'pg');
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const db = await startEmbeddedPostgres({ dataDir, port, database: 'parley', persistent: false });
  process.env.DATABASE_URL = db.url;
  (globalThis as { embeddedPostgres?: typeof db }).embeddedPostgres = db;
}
