import { Client } from 'pg';
import { VISIBLE_TO_SERVICE, VISIBLE_TO_USER } from '../src/modules/chat/chat.repository';
import { AFTER, RANGES } from '../src/modules/message/message.repository';
import { startTestApp, type TestApp } from '../src/testing/harness';

// The hot reads must cost the same however much data there is, also when the statistics are stale: analysed while
// the tables were nearly empty, then grown many times over. Their plans may only use the primary-key and
// (chat_id, seq) indexes; a sequential scan would read every message stored.
let t: TestApp;
let db: Client;
const numbered = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

beforeAll(async () => {
  t = await startTestApp();
  db = new Client({ connectionString: t.database.url });
  await db.connect();
  await db.query(`insert into chat (id, created_at, last_activity_at, message_count)
    select gen_random_uuid(), now(), now(), 10 from generate_series(1, 10)`);
  await db.query('analyze');
  await db.query(`insert into chat (id, created_at, last_activity_at, message_count)
    select gen_random_uuid(), now(), now(), 20 from generate_series(1, 5000)`);
  await db.query(`insert into message (id, chat_id, seq, sender, text, system, created_at)
    select gen_random_uuid(), chat.id, s, 'u', 'text', false, now() from chat, generate_series(1, 20) as s`);
  await db.query(`insert into member (chat_id, user_id, role, joined_at, last_read_seq)
    select id, 'reader', 'MEMBER', now(), 0 from chat`);
});
afterAll(async () => {
  await db.end();
  await t.close();
});

async function plan(sql: string, params: unknown[]): Promise<string> {
  const { rows } = await db.query(`explain ${numbered(sql)}`, params);
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

const someChats = async (n: number) => (await db.query(`select id from chat order by random() limit ${n}`)).rows.map((r) => r.id as string);

it('the message ranges of 50 chats (chats + lastMessage) read only the (chat_id, seq) index', async () => {
  const ids = await someChats(50);
  const text = await plan(RANGES, [`{${ids}}`, `{${ids.map(() => 20)}}`, `{${ids.map(() => 20)}}`]);
  expect(text).not.toMatch(/Seq Scan/);
  expect(text).toMatch(/Index Scan using message_chat_id_seq_unique on message/);
});

it("50 chats as a member sees them read only the chat's and the member's primary keys", async () => {
  const text = await plan(VISIBLE_TO_USER, [`{${await someChats(50)}}`, 'reader']);
  expect(text).not.toMatch(/Seq Scan/);
  expect(text).toMatch(/Index Scan using chat_pkey on chat/);
  expect(text).toMatch(/Index Scan using member_pkey on member/);
});

it('50 chats as a service sees them read only the chat primary key', async () => {
  const text = await plan(VISIBLE_TO_SERVICE, [`{${await someChats(50)}}`]);
  expect(text).not.toMatch(/Seq Scan/);
  expect(text).toMatch(/Index Scan using chat_pkey on chat/);
});

it("a live feed's next messages read only the (chat_id, seq) index", async () => {
  const [chat] = await someChats(1);
  const text = await plan(AFTER, [chat, 10, 100]);
  expect(text).not.toMatch(/Seq Scan/);
  expect(text).toMatch(/(Index Scan using|Bitmap Index Scan on) message_chat_id_seq_unique/);
});
