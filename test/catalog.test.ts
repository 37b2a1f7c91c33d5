import { Client } from 'pg';
import { startTestApp, type TestApp } from '../src/testing/harness';

let t: TestApp;
let db: Client;
beforeAll(async () => {
  t = await startTestApp();
  db = new Client({ connectionString: t.database.url });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await t.close();
});

it('every primary key and unique constraint of a per-chat table includes chat_id (distributable by chat_id)', async () => {
  const { rows } = await db.query<{ table: string; constraint: string; columns: string[] }>(`
    select c.conrelid::regclass::text as "table", c.conname as "constraint",
           array_agg(a.attname::text order by a.attnum) as "columns"
    from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
    where c.contype in ('p', 'u') and c.connamespace = 'public'::regnamespace and c.conrelid::regclass::text <> 'chat'
      and c.conrelid::regclass::text not like 'mikro_orm%'
    group by c.conrelid, c.conname`);
  expect(rows.map((r) => r.table).sort()).toEqual(['member', 'message', 'message', 'message']);
  expect(rows.filter((r) => !r.columns.includes('chat_id'))).toEqual([]);
});
