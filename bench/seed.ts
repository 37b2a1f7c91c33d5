import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { initOrm } from '../src/db/orm';
import { BIG_CHAT, BIG_CHAT_MEMBERS, DATA, INBOX_CHAT, READER, W7_CHAT, readerStride, roomChat, roomMember, specialChatId } from './workloads';

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

const databaseUrl = (serverUrl: string, name: string) => {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
};

/**
 * The bench's databases on the server of `serverUrl`. Each size of the data set is migrated (Parley's own
 * migrations) and seeded once per run, as a template; every target and round gets a fresh copy of it, statistics
 * included (`create database … template`, a file copy: seconds even for `--scale`'s 2 M messages).
 */
export class BenchDatabases {
  private readonly templates = new Map<number, Promise<string>>();

  constructor(private readonly serverUrl: string) {}

  /** A fresh database holding the data set with `chats` small chats. */
  async copy(label: string, chats: number): Promise<BenchDatabase> {
    const template = await this.template(chats);
    const name = `parley_bench_${label}_${randomBytes(4).toString('hex')}`;
    await withClient(this.serverUrl, (client) => client.query(`create database "${name}" template "${template}" strategy file_copy`));
    return { url: databaseUrl(this.serverUrl, name), drop: () => this.dropDatabase(name) };
  }

  async close(): Promise<void> {
    const names = await Promise.allSettled(this.templates.values());
    for (const name of names) if (name.status === 'fulfilled') await this.dropDatabase(name.value);
  }

  private template(chats: number): Promise<string> {
    let template = this.templates.get(chats);
    if (!template) this.templates.set(chats, (template = this.createTemplate(chats)));
    return template;
  }

  private async createTemplate(chats: number): Promise<string> {
    const name = `parley_bench_template_${chats}_${randomBytes(4).toString('hex')}`;
    await withClient(this.serverUrl, (client) => client.query(`create database "${name}"`));
    try {
      const orm = await initOrm({ databaseUrl: databaseUrl(this.serverUrl, name), poolSize: 2 });
      await orm.close();
      await withClient(databaseUrl(this.serverUrl, name), (client) => seed(client, chats));
    } catch (error) {
      await this.dropDatabase(name);
      throw error;
    }
    return name;
  }

  private dropDatabase(name: string): Promise<void> {
    return withClient(this.serverUrl, async (client) => void (await client.query(`drop database if exists "${name}" with (force)`)));
  }
}

/** Small chat i's id in SQL, as workloads.ts's chatId(i). */
const CHAT_ID = (i: string) => `('00000000-0000-4000-8000-' || lpad(to_hex(${i}), 12, '0'))::uuid`;

/**
 * `chats` chats of 20 messages and one of 10,000, each with gap-free seqs and message_count = its newest seq, and
 * last_activity_at = its newest message's time (chats a minute apart, so `myChats` has an order to follow). Members
 * as workloads.ts describes them; a member has read all but `i % 20` of chat i's messages (the OWNER all of them).
 * Two empty chats of 1,000 members each for W7 and W9, and W10's 2,000 empty chats of 5. All of it set-based, then
 * VACUUM ANALYZE, as a database that has been running a while would have been.
 */
async function seed(client: Client, chats: number): Promise<void> {
  const per = DATA.messagesPerChat;
  const rooms = Array.from({ length: DATA.rooms }, (_, r) => roomChat(r));
  await client.query(
    `insert into chat (id, created_at, last_activity_at, message_count)
     select id, created, created + count * interval '1 second', count
     from (select ${CHAT_ID('i')}, i, $2::int from generate_series(0, $1::int - 1) as i
           union all select id, $1::int + k, count from unnest($3::uuid[], $4::int[]) with ordinality as special(id, count, k)) as new(id, i, count),
          lateral (select now() - interval '1 day' - ($1::int + $5::int - i) * interval '1 minute' as created) as at`,
    [chats, per, [BIG_CHAT, W7_CHAT, INBOX_CHAT, ...rooms], [DATA.bigChatMessages, 0, 0, ...rooms.map(() => 0)], 3 + rooms.length],
  );
  await client.query(
    `insert into message (id, chat_id, seq, sender, text, system, created_at)
     select gen_random_uuid(), chat.id, seq, 'user-' || (seq % 7), 'seeded message number ' || seq, false,
            chat.created_at + seq * interval '1 second'
     from chat cross join lateral generate_series(1, chat.message_count) as seq`,
  );
  const joined = `now() - interval '3 days'`;
  // Small chat i: user-i (OWNER), user-(i+1), for even i user-(i+2), mod the users; READER in every stride-th chat.
  await client.query(
    `insert into member (chat_id, user_id, role, joined_at, last_read_seq)
     select ${CHAT_ID('i')}, 'user-' || ((i + k) % $2::int), case when k = 0 then 'OWNER' else 'MEMBER' end, ${joined},
            case when k = 0 then $3::int else $3::int - i % 20 end
     from generate_series(0, $1::int - 1) as i, generate_series(0, 2) as k
     where k < 2 or i % 2 = 0
     union all
     select ${CHAT_ID('i')}, $4, 'MEMBER', ${joined}, $3::int - i % 20
     from generate_series(0, $6::int - 1) as r, lateral (select r * $5::int as i) as reader`,
    [chats, DATA.users, per, READER, readerStride(chats), DATA.readerChats],
  );
  const crowds: [string, string][] = [...BIG_CHAT_MEMBERS.map((user) => [BIG_CHAT, user] as [string, string])];
  for (const [chat, prefix] of [[W7_CHAT, 'w7'], [INBOX_CHAT, 'inbox']] as const) {
    for (let k = 0; k < DATA.crowd; k += 1) crowds.push([chat, `${prefix}-${k}`]);
  }
  rooms.forEach((chat, r) => {
    for (let k = 0; k < DATA.roomSize; k += 1) crowds.push([chat, roomMember(r, k)]);
  });
  // The first member of each of these chats is its OWNER; none has read anything.
  await client.query(
    `insert into member (chat_id, user_id, role, joined_at, last_read_seq)
     select chat_id, user_id, case when lag(chat_id) over (order by k) is distinct from chat_id then 'OWNER' else 'MEMBER' end, ${joined}, 0
     from unnest($1::uuid[], $2::text[]) with ordinality as new(chat_id, user_id, k)`,
    [crowds.map(([chat]) => chat), crowds.map(([, user]) => user)],
  );
  await client.query('vacuum analyze');
}

export interface Burst {
  messagesBefore: number;
  messagesAfter: number;
  /** Rows changed in `message` since its last ANALYZE, as PostgreSQL counts them (none analysed it since). */
  modifiedSinceAnalyze: number;
  /** Turns autovacuum back on for the grown tables. */
  restore(): Promise<void>;
}

/**
 * Grows every small chat by `count` messages in one statement, as a burst of traffic would, with no ANALYZE after
 * it: autovacuum is off on the grown tables until `restore()`, so that its analyze cannot run in the middle of the
 * measurement that follows (the statistics stay those of the table before the burst).
 */
export async function burst(url: string, count: number): Promise<Burst> {
  return withClient(url, async (client) => {
    const messages = async () => Number((await client.query('select count(*) from message')).rows[0].count);
    const messagesBefore = await messages();
    await client.query('alter table message set (autovacuum_enabled = false); alter table chat set (autovacuum_enabled = false)');
    await client.query(
      `with grown as (
         update chat set message_count = message_count + $1::int, last_activity_at = last_activity_at + $1::int * interval '1 second'
         where id < $2::uuid returning id, message_count, created_at
       )
       insert into message (id, chat_id, seq, sender, text, system, created_at)
       select gen_random_uuid(), grown.id, seq, 'user-' || (seq % 7), 'burst message number ' || seq, false, grown.created_at + seq * interval '1 second'
       from grown cross join lateral generate_series(grown.message_count - $1::int + 1, grown.message_count) as seq`,
      [count, specialChatId(0)],
    );
    const { rows } = await client.query(`select n_mod_since_analyze from pg_stat_user_tables where relname = 'message'`);
    return {
      messagesBefore,
      messagesAfter: await messages(),
      modifiedSinceAnalyze: Number(rows[0]?.n_mod_since_analyze ?? NaN),
      restore: () => withClient(url, async (c) => void (await c.query('alter table message reset (autovacuum_enabled); alter table chat reset (autovacuum_enabled)'))),
    };
  });
}
