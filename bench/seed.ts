import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { initOrm } from '../src/db/orm';
import { BIG_CHAT, BIG_CHAT_MEMBERS, DATA, INBOX_CHAT, READER, W7_CHAT, chatId, crowdMember, membersOf } from './workloads';

async function withClient<T>(url: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new database on the server of `serverUrl`, with Parley's schema (its own migrations) and the bench data set. */
export async function createSeededDatabase(serverUrl: string, label: string): Promise<BenchDatabase> {
  const name = `parley_bench_${label}_${randomBytes(4).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`create database "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const drop = () => withClient(serverUrl, async (client) => void (await client.query(`drop database if exists "${name}" with (force)`)));
  try {
    const orm = await initOrm({ databaseUrl: url.toString(), poolSize: 2 });
    await orm.close();
    await withClient(url.toString(), seed);
  } catch (error) {
    await drop();
    throw error;
  }
  return { url: url.toString(), drop };
}

/**
 * 1,000 chats of 20 messages and one of 10,000, each with gap-free seqs and message_count = its newest seq, and
 * last_activity_at = its newest message's time (chats a minute apart, so `myChats` has an order to follow). Members
 * as workloads.ts describes them; a member has read all but `i % 20` of chat i's messages (the OWNER all of them).
 * Two empty chats of 1,000 members each for W7 and W9.
 */
async function seed(client: Client): Promise<void> {
  const small = Array.from({ length: DATA.chats }, (_, i) => chatId(i));
  await client.query(
    `insert into chat (id, created_at, last_activity_at, message_count)
     select id, created, created + count * interval '1 second', count
     from unnest($1::uuid[], $2::int[]) with ordinality as new(id, count, i),
          lateral (select now() - interval '2 days' + i * interval '1 minute' as created) as at`,
    [[...small, BIG_CHAT, W7_CHAT, INBOX_CHAT], [...small.map(() => DATA.messagesPerChat), DATA.bigChatMessages, 0, 0]],
  );
  await client.query(
    `insert into message (id, chat_id, seq, sender, text, system, created_at)
     select gen_random_uuid(), chat.id, seq, 'user-' || (seq % 7), 'seeded message number ' || seq, false,
            chat.created_at + seq * interval '1 second'
     from chat cross join lateral generate_series(1, chat.message_count) as seq`,
  );
  const members: { chat: string; user: string; owner: boolean; read: number }[] = [];
  small.forEach((chat, i) => {
    membersOf(i).forEach((user, k) => members.push({ chat, user, owner: k === 0, read: k === 0 ? DATA.messagesPerChat : DATA.messagesPerChat - (i % 20) }));
    if (i < DATA.readerChats) members.push({ chat, user: READER, owner: false, read: DATA.messagesPerChat - (i % 20) });
  });
  BIG_CHAT_MEMBERS.forEach((user, k) => members.push({ chat: BIG_CHAT, user, owner: k === 0, read: 0 }));
  for (const [chat, prefix] of [[W7_CHAT, 'w7'], [INBOX_CHAT, 'inbox']] as const) {
    for (let k = 0; k < DATA.crowd; k += 1) members.push({ chat, user: crowdMember(prefix, k), owner: k === 0, read: 0 });
  }
  await client.query(
    `insert into member (chat_id, user_id, role, joined_at, last_read_seq)
     select chat_id, user_id, case when owner then 'OWNER' else 'MEMBER' end, now() - interval '3 days', read
     from unnest($1::uuid[], $2::text[], $3::boolean[], $4::int[]) as new(chat_id, user_id, owner, read)`,
    [members.map((m) => m.chat), members.map((m) => m.user), members.map((m) => m.owner), members.map((m) => m.read)],
  );
  await client.query('analyze');
}
