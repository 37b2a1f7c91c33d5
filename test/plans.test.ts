import { Client } from 'pg';
import type { Statement } from '../src/db/rows';
import { VISIBLE_TO_SERVICE, VISIBLE_TO_USER } from '../src/modules/chat/chat.repository';
import { AFTER, RANGES } from '../src/modules/message/message.repository';
import { startTestApp, type TestApp } from '../src/testing/harness';

// The hot reads must cost the same however much data there is, also when the statistics are stale: analysed while
// the tables were nearly empty, then grown many times over. Their plans may only probe exact keys: the primary keys,
// (chat_id, seq) and the member's (user_id, chat_id); a sequential scan would read every message stored. The app runs them as prepared
// statements: PostgreSQL plans the first executions for their values (a custom plan) and may then keep one plan made
// without them (the generic plan); both are checked.
let t: TestApp;
let db: Client;

beforeAll(async () => {
  t = await startTestApp();
  db = new Client({ connectionString: t.database.url });
  await db.connect();
  await db.query(`insert into chat (id, created_at, last_activity_at, message_count)
    select gen_random_uuid(), now(), now(), 10 from generate_series(1, 10)`);
  // Statistics that say a user is in one chat or two (many users, each in few chats)...
  await db.query(`insert into member (chat_id, user_id, role, joined_at, last_read_seq)
    select id, 'user-' || k || '-' || id, 'MEMBER', now(), 0 from chat, generate_series(1, 3) as k`);
  await db.query('analyze');
  await db.query(`insert into chat (id, created_at, last_activity_at, message_count)
    select gen_random_uuid(), now(), now(), 20 from generate_series(1, 5000)`);
  await db.query(`insert into message (id, chat_id, seq, sender, text, system, created_at)
    select gen_random_uuid(), chat.id, s, 'u', 'text', false, now() from chat, generate_series(1, 20) as s`);
  // ...then the reader joins all 5,010 chats: a plan that finds the member rows by user alone walks all of them.
  await db.query(`insert into member (chat_id, user_id, role, joined_at, last_read_seq)
    select id, 'reader', 'MEMBER', now(), 0 from chat`);
});
afterAll(async () => {
  await db.end();
  await t.close();
});

type PlanKind = 'custom' | 'generic';
const KINDS: PlanKind[] = ['custom', 'generic'];

async function plan(kind: PlanKind, { text }: Statement, params: unknown[]): Promise<string> {
  await db.query(`set plan_cache_mode = force_${kind}_plan`);
  await db.query(`prepare hot as ${text}`);
  try {
    const { rows } = await db.query(`explain execute hot(${params.map((p) => db.escapeLiteral(String(p))).join(', ')})`);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    await db.query('deallocate hot');
  }
}

const someChats = async (n: number) => (await db.query(`select id from chat order by random() limit ${n}`)).rows.map((r) => r.id as string);

it.each(KINDS)('the message ranges of 50 chats (chats + lastMessage) read only the (chat_id, seq) index (%s plan)', async (kind) => {
  const ids = await someChats(50);
  const text = await plan(kind, RANGES, [`{${ids}}`, `{${ids.map(() => 20)}}`, `{${ids.map(() => 20)}}`]);
  expect(text).not.toMatch(/Seq Scan/);
  expect(text).toMatch(/Index Scan using message_chat_id_seq_unique on message/);
});

// A member row is found by its whole key, (chat_id, user_id) or (user_id, chat_id), one index probe per chat asked
// for: never by the user alone, which walks every membership of the user (a user in many chats).
const MEMBER_BY_KEY = /Index Scan using (member_pkey|member_user_id_chat_id_index) on member.*\n\s*Index Cond: \(\(\(?(chat_id = wanted\.id\) AND \(\(user_id\)::text = |\(user_id\)::text = [^)]+\) AND \(chat_id = wanted\.id)/;

it.each(KINDS)("50 chats as a member sees them read only the chat's primary key and the member's whole key (%s plan)", async (kind) => {
  const text = await plan(kind, VISIBLE_TO_USER, [`{${await someChats(50)}}`, 'reader']);
  expect(text).not.toMatch(/Seq Scan/);
  expect(text).not.toMatch(/Filter/);
  expect(text).toMatch(/Index Scan using chat_pkey on chat/);
  expect(text).toMatch(MEMBER_BY_KEY);
});

it.each(KINDS)('50 chats as a service sees them read only the chat primary key (%s plan)', async (kind) => {
  const text = await plan(kind, VISIBLE_TO_SERVICE, [`{${await someChats(50)}}`]);
  expect(text).not.toMatch(/Seq Scan/);
  expect(text).toMatch(/Index Scan using chat_pkey on chat/);
});

it.each(KINDS)("a live feed's next messages read only the (chat_id, seq) index (%s plan)", async (kind) => {
  const [chat] = await someChats(1);
  const text = await plan(kind, AFTER, [chat, 10, 100]);
  expect(text).not.toMatch(/Seq Scan/);
  expect(text).toMatch(/(Index Scan using|Bitmap Index Scan on) message_chat_id_seq_unique/);
});
