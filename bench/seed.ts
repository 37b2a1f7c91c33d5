import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { initOrm } from '../src/db/orm';
import { BIG_CHAT, DATA, chatId } from './workloads';

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

/** 1,000 chats of 20 messages and one of 10,000, each with gap-free seqs and message_count = its newest seq. */
async function seed(client: Client): Promise<void> {
  const small = Array.from({ length: DATA.chats }, (_, i) => chatId(i));
  await client.query(
    `insert into chat (id, created_at, last_activity_at, message_count)
     select id, now() - interval '1 day', now() - interval '1 day' + count * interval '1 second', count
     from unnest($1::uuid[] || $2::uuid) as id, lateral (select case when id = $2::uuid then $3::int else $4::int end as count) as c`,
    [small, BIG_CHAT, DATA.bigChatMessages, DATA.messagesPerChat],
  );
  await client.query(
    `insert into message (id, chat_id, seq, sender, text, system, created_at)
     select gen_random_uuid(), chat.id, seq, 'seed-' || (seq % 7), 'seeded message number ' || seq, false,
            chat.created_at + seq * interval '1 second'
     from chat cross join lateral generate_series(1, chat.message_count) as seq`,
  );
  await client.query('analyze');
}
