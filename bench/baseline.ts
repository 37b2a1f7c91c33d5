/**
 * The ceiling Parley is measured against: node:http + pg, hand-written SQL, no GraphQL library and no ORM.
 * It accepts the bench's GraphQL request bodies, dispatches on operationName and answers the same JSON as Parley,
 * doing the same database work (same statements, sent as named prepared statements and planned generically as
 * Parley's are, same row lock and transaction for seq allocation, membership folded into them the same way). Bearer tokens are checked as Parley checks them: jose's jwtVerify (HS256, exp
 * and sub required) behind a bounded cache of verified tokens by token text, never used past exp. It serves users
 * (the bench's callers); a service token may only post.
 * For W7 and W9 it speaks just enough of graphql-transport-ws to broadcast each committed message to a chat's
 * sockets and each member's inbox state to that member's sockets.
 *
 *   node dist/bench/baseline.js --port 4100 --database-url postgresql://... --pool 10 --auth-secret <at least 32 bytes>
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { jwtVerify } from 'jose';
import { Pool, type PoolClient } from 'pg';
import { WebSocketServer, type WebSocket } from 'ws';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    'database-url': { type: 'string' },
    pool: { type: 'string', default: '10' },
    'auth-secret': { type: 'string' },
  },
});
// Planned as Parley's connections plan their prepared statements (mikro-orm.config.ts).
const pool = new Pool({ connectionString: args['database-url'], max: Number(args.pool), options: '-c plan_cache_mode=force_generic_plan' });
if (!args['auth-secret'] || Buffer.byteLength(args['auth-secret']) < 32) throw new Error('--auth-secret of at least 32 bytes is required');
const secret = new TextEncoder().encode(args['auth-secret']);

interface MessageRow {
  id: string;
  chat_id: string;
  seq: number;
  sender: string;
  text: string;
  system: boolean;
  created_at: Date;
  client_message_id: string | null;
}

/**
 * Every statement goes under a name, as Parley's repositories send theirs: PostgreSQL parses each text once per
 * connection and then only binds and executes it.
 */
const names = new Map<string, string>();
function named(text: string, values: unknown[]) {
  let name = names.get(text);
  if (!name) names.set(text, (name = `baseline_${names.size}`));
  return { name, text, values };
}

class BadRequest extends Error {}
class Forbidden extends Error {}
class Unauthenticated extends Error {}

// ---- tokens: as Parley's Authenticator does it ----

interface Viewer {
  userId: string;
  service: boolean;
}
const TOKEN_CACHE_SIZE = 10_000;
const verified = new Map<string, { viewer: Viewer; expiresAt: number }>();

async function authenticate(authorization: unknown): Promise<Viewer> {
  const token = typeof authorization === 'string' ? /^Bearer +([\w.~+/-]+=*) *$/i.exec(authorization)?.[1] : undefined;
  if (!token) throw new Unauthenticated();
  const cached = verified.get(token);
  if (cached && cached.expiresAt > Date.now()) return cached.viewer;
  verified.delete(token);
  const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }).catch(() => {
    throw new Unauthenticated();
  });
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 100) throw new Unauthenticated();
  const viewer = { userId: payload.sub, service: payload.role === 'service' };
  if (verified.size >= TOKEN_CACHE_SIZE) verified.delete(verified.keys().next().value!);
  verified.set(token, { viewer, expiresAt: payload.exp! * 1000 });
  return viewer;
}

/** The bench reads as users; the service's see-everything variants of each read are Parley's, not measured. */
function user(viewer: Viewer): string {
  if (viewer.service) throw new BadRequest('the baseline serves reads to users only');
  return viewer.userId;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function uuid(value: unknown, field: string): string {
  if (typeof value !== 'string' || !UUID.test(value)) throw new BadRequest(`${field} must be a UUID`);
  return value;
}

interface NewMessage {
  sender: string;
  text: string;
  system: boolean;
  clientMessageId: string | null;
}
/** A user posts under its own id and never a system message; a service names the sender. */
function newMessage(input: any, viewer: Viewer): NewMessage {
  if (typeof input?.text !== 'string' || !input.text.trim() || input.text.length > 4000) throw new BadRequest('bad text');
  let sender = input.sender;
  if (!viewer.service) {
    if (sender != null && sender !== viewer.userId) throw new Forbidden('sender must be your own user id');
    if (input.system) throw new Forbidden('only a service may post system messages');
    sender = viewer.userId;
  }
  if (typeof sender !== 'string' || !sender.trim() || sender.length > 100) throw new BadRequest('bad sender');
  return { sender, text: input.text, system: input.system ?? false, clientMessageId: input.clientMessageId ?? null };
}

async function transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}

/**
 * The same statements as Parley's repositories (see there for why they are correct): the post's UPDATE takes the
 * seq, moves last_activity_at, checks membership with EXISTS and moves the poster's read marker, all in one.
 */
const INSERT_NEXT = `
  with chat as (
    update chat set message_count = message_count + 1, last_activity_at = $6
    where id = $1 and ($8::boolean or exists (select 1 from member where chat_id = $1 and user_id = $9))
    returning message_count
  ), marker as (
    update member set last_read_seq = chat.message_count from chat where member.chat_id = $1 and member.user_id = $9
  )
  insert into message (id, chat_id, seq, sender, text, system, created_at, client_message_id)
  select $2, $1, message_count, $3, $4, $5, $6, $7 from chat
  returning seq`;
/** A chat, its members (the starter as OWNER) and its first message in one statement. */
const INSERT_CHAT = `
  with chat as (
    insert into chat (id, created_at, last_activity_at, message_count) values ($1, $2, $2, $3) returning id
  ), members as (
    insert into member (chat_id, user_id, role, joined_at, last_read_seq)
    select chat.id, new.user_id, new.role, $2, new.last_read_seq
    from chat, unnest($4::text[], $5::text[], $6::int[]) as new(user_id, role, last_read_seq)
  )`;
const INSERT_FIRST_MESSAGE = `
  insert into message (id, chat_id, seq, sender, text, system, created_at, client_message_id)
  select $7, id, 1, $8, $9, $10, $2, $11 from chat`;
/** The chats among $2 the user is a member of, with its read marker: the join is the membership check. */
const VISIBLE = `
  select chat.*, member.last_read_seq from chat join member on member.chat_id = chat.id and member.user_id = $1
  where chat.id = any($2::uuid[])`;
/** The user's chats by activity, newest first (one more than a page, to know whether there is a next). */
const BY_ACTIVITY = `
  select chat.*, member.last_read_seq from member join chat on chat.id = member.chat_id
  where member.user_id = $1 and (chat.last_activity_at, chat.id) < ($2::timestamptz, $3::uuid)
  order by chat.last_activity_at desc, chat.id desc
  limit $4`;

async function insertNext(client: Pool | PoolClient, m: MessageRow, viewer: Viewer): Promise<MessageRow> {
  const { rows } = await client.query(named(INSERT_NEXT, [
    m.chat_id, m.id, m.sender, m.text, m.system, m.created_at, m.client_message_id, viewer.service, viewer.userId,
  ]));
  if (!rows[0]) throw new BadRequest(`chat ${m.chat_id} does not exist`);
  return { ...m, seq: rows[0].seq };
}

const messageJson = (m: MessageRow) => ({
  id: m.id,
  chatId: m.chat_id,
  seq: m.seq,
  sender: m.sender,
  text: m.text,
  system: m.system,
  createdAt: m.created_at.toISOString(),
  clientMessageId: m.client_message_id,
});

async function postMessage({ input }: any, viewer: Viewer) {
  const chatId = uuid(input?.chatId, 'chatId');
  const content = newMessage(input, viewer);
  const draft: MessageRow = {
    id: randomUUID(), chat_id: chatId, seq: 0, sender: content.sender, text: content.text, system: content.system,
    created_at: new Date(), client_message_id: content.clientMessageId,
  };
  const { message, created } =
    content.clientMessageId === null
      ? { message: await insertNext(pool, draft, viewer), created: true }
      : await transaction(async (client) => {
          const { rows } = viewer.service
            ? await client.query(named('select 1 from chat where id = $1 for update', [chatId]))
            : await client.query(named('select 1 from chat join member on member.chat_id = chat.id and member.user_id = $2 where chat.id = $1 for update of chat', [chatId, viewer.userId]));
          if (!rows[0]) throw new BadRequest(`chat ${chatId} does not exist`);
          const stored = await client.query(named('select * from message where chat_id = $1 and client_message_id = $2', [chatId, content.clientMessageId]));
          if (stored.rows[0]) return { message: stored.rows[0] as MessageRow, created: false };
          return { message: await insertNext(client, draft, viewer), created: true };
        });
  if (created) {
    broadcast(message);
    setImmediate(() => void notifyInboxes(message.chat_id));
  }
  return { postMessage: messageJson(message) };
}

/** A user's chat: the user is its OWNER and has read its first message. (No `members:` argument in the bench.) */
async function startChat({ firstMessage }: any, viewer: Viewer) {
  const owner = user(viewer);
  const content = firstMessage ? newMessage(firstMessage, viewer) : null;
  const chat = { id: randomUUID(), created_at: new Date(), message_count: content ? 1 : 0 };
  const params = [chat.id, chat.created_at, chat.message_count, [owner], ['OWNER'], [chat.message_count]];
  if (content) {
    await pool.query(named(`${INSERT_CHAT} ${INSERT_FIRST_MESSAGE}`, [...params, randomUUID(), content.sender, content.text, content.system, content.clientMessageId]));
  } else {
    await pool.query(named(`${INSERT_CHAT} select 1`, params));
  }
  return { startChat: { id: chat.id, createdAt: chat.created_at.toISOString(), messageCount: chat.message_count } };
}

interface ChatRow {
  id: string;
  created_at: Date;
  last_activity_at: Date;
  message_count: number;
  last_read_seq: number;
}

async function chatsById(ids: string[], viewer: Viewer): Promise<Map<string, ChatRow>> {
  const { rows } = await pool.query(named(VISIBLE, [user(viewer), ids]));
  return new Map(rows.map((row) => [row.id, row]));
}

/** The newest message of each chat (by its message_count), in one statement. */
async function newestMessages(chats: { id: string; message_count: number }[]): Promise<Map<string, MessageRow>> {
  const withMessages = chats.filter((chat) => chat.message_count > 0);
  if (withMessages.length === 0) return new Map();
  const { rows } = await pool.query(named(
    `select m.* from message m join unnest($1::uuid[], $2::int[]) as k(chat_id, seq) on m.chat_id = k.chat_id and m.seq = k.seq`,
    [withMessages.map((c) => c.id), withMessages.map((c) => c.message_count)],
  ));
  return new Map(rows.map((row: MessageRow) => [row.chat_id, row]));
}

async function chats({ ids }: any, viewer: Viewer) {
  if (!Array.isArray(ids) || ids.length > 100) throw new BadRequest('ids must list at most 100 chats');
  ids.forEach((id, i) => uuid(id, `ids[${i}]`));
  const found = await chatsById(ids, viewer);
  const newest = await newestMessages([...found.values()]);
  return {
    chats: ids.map((id: string) => {
      const chat = found.get(id);
      if (!chat) return null;
      const last = newest.get(id);
      return {
        id: chat.id,
        messageCount: chat.message_count,
        lastMessage: last ? { text: last.text, sender: last.sender, createdAt: last.created_at.toISOString() } : null,
      };
    }),
  };
}

async function existingChat(chatId: string, viewer: Viewer) {
  const chat = (await chatsById([uuid(chatId, 'chatId')], viewer)).get(chatId);
  if (!chat) throw new BadRequest(`chat ${chatId} does not exist`);
  return chat;
}

async function lastMessage({ chatId }: any, viewer: Viewer) {
  const chat = await existingChat(chatId, viewer);
  const m = (await newestMessages([chat])).get(chat.id);
  return { lastMessage: m ? { id: m.id, seq: m.seq, sender: m.sender, text: m.text, createdAt: m.created_at.toISOString() } : null };
}

const cursor = (seq: number) => Buffer.from(`seq:${seq}`).toString('base64url');

/** `messages(chatId, last: 50)`: the seq window follows from message_count, because seqs are gap-free. */
async function lastPage({ chatId }: any, viewer: Viewer) {
  const chat = await existingChat(chatId, viewer);
  const start = Math.max(1, chat.message_count - 49);
  const end = chat.message_count;
  const { rows } = await pool.query<MessageRow>(named(
    'select * from message where chat_id = $1 and seq >= $2 and seq <= $3 order by seq asc',
    [chat.id, start, end],
  ));
  return {
    messages: {
      nodes: rows.map((m) => ({ id: m.id, seq: m.seq, sender: m.sender, text: m.text, createdAt: m.created_at.toISOString() })),
      pageInfo: {
        hasNextPage: false,
        hasPreviousPage: start > 1,
        startCursor: rows.length ? cursor(rows[0].seq) : null,
        endCursor: rows.length ? cursor(rows[rows.length - 1].seq) : null,
      },
    },
  };
}

/** `myChats(first: 20)`: the page (one more row tells hasNextPage) and the newest message of each, two statements. */
async function myChats(_variables: unknown, viewer: Viewer) {
  const found: ChatRow[] = (await pool.query(named(BY_ACTIVITY, [user(viewer), new Date(8.64e15), 'ffffffff-ffff-ffff-ffff-ffffffffffff', 21]))).rows;
  const page = found.slice(0, 20);
  const newest = await newestMessages(page);
  return { myChats: { nodes: page.map((chat) => inboxChat(chat, newest.get(chat.id))) } };
}

const inboxChat = (chat: ChatRow, last: { text: string } | undefined) => ({
  id: chat.id,
  lastActivityAt: chat.last_activity_at.toISOString(),
  unreadCount: Math.max(0, chat.message_count - chat.last_read_seq),
  lastMessage: last ? { text: last.text } : null,
});

const operations: Record<string, (variables: any, viewer: Viewer) => Promise<unknown>> = {
  PostMessage: postMessage,
  StartChat: startChat,
  Chats: chats,
  LastMessage: lastMessage,
  LastPage: lastPage,
  MyChats: myChats,
};

function send(res: ServerResponse, status: number, body: unknown) {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  if (req.method === 'GET' && req.url === '/healthz') return send(res, 200, { status: 'ok' });
  if (req.method !== 'POST' || req.url !== '/graphql') return send(res, 404, { errors: [{ message: 'not found' }] });
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const viewer = await authenticate(req.headers.authorization);
    const { operationName, variables } = JSON.parse(Buffer.concat(chunks).toString());
    const operation = operations[operationName];
    if (!operation) return send(res, 400, { errors: [{ message: `unknown operation ${operationName}` }] });
    send(res, 200, { data: await operation(variables ?? {}, viewer) });
  } catch (error) {
    if (error instanceof Unauthenticated) {
      return send(res, 401, { errors: [{ message: 'invalid or expired token', extensions: { code: 'UNAUTHENTICATED' } }] });
    }
    const known = error instanceof BadRequest || error instanceof Forbidden;
    if (!known) console.error(error);
    send(res, 200, { errors: [{ message: known ? (error as Error).message : 'Internal server error' }] });
  }
}

// ---- W7 and W9: plain broadcasts over ws, framed as graphql-transport-ws so the same clients measure both targets ----

/** messageAdded sockets by chat, inboxUpdated sockets by user; each with its subscription id. */
const subscribers = new Map<string, Map<WebSocket, string>>();
const inboxes = new Map<string, Map<WebSocket, string>>();

const nextFrame = (id: string, payload: string) => `{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`;

/**
 * Per followed chat, the next seq to send and the messages that committed ahead of it: posts answer in any order,
 * so each is held until the ones before it went out (Parley's feeds deliver in seq order too).
 */
const sequencers = new Map<string, { next: number; held: Map<number, MessageRow> }>();

function broadcast(m: MessageRow) {
  const sequencer = sequencers.get(m.chat_id);
  if (!sequencer || m.seq < sequencer.next) return;
  sequencer.held.set(m.seq, m);
  for (let next = sequencer.held.get(sequencer.next); next; next = sequencer.held.get(sequencer.next)) {
    sequencer.held.delete(sequencer.next);
    sequencer.next += 1;
    sendMessage(next);
  }
}

function sendMessage(m: MessageRow) {
  const sockets = subscribers.get(m.chat_id);
  if (!sockets) return;
  const payload = JSON.stringify({
    data: { messageAdded: { id: m.id, chatId: m.chat_id, seq: m.seq, sender: m.sender, text: m.text, createdAt: m.created_at.toISOString() } },
  });
  for (const [socket, id] of sockets) socket.send(nextFrame(id, payload));
}

/**
 * After a post answered, as Parley does: the chat's members (one doorbell each), then the chat's state as each
 * member who listens here sees it (its read marker), all of them in one statement, sent to that member's sockets.
 */
async function notifyInboxes(chatId: string) {
  try {
    const { rows: members } = await pool.query(named('select user_id from member where chat_id = $1', [chatId]));
    const listening = members.map((m) => m.user_id as string).filter((userId) => inboxes.get(userId)?.size);
    if (listening.length === 0) return;
    const { rows } = await pool.query(named(
      `select member.user_id, chat.*, member.last_read_seq, message.text
       from member join chat on chat.id = member.chat_id
       left join message on message.chat_id = chat.id and message.seq = chat.message_count
       where member.chat_id = $1 and member.user_id = any($2::text[])`,
      [chatId, listening],
    ));
    for (const row of rows) {
      const payload = JSON.stringify({
        data: { inboxUpdated: { chatId, reason: 'MESSAGE', chat: inboxChat(row, row.text === null ? undefined : row) } },
      });
      for (const [socket, id] of inboxes.get(row.user_id) ?? []) socket.send(nextFrame(id, payload));
    }
  } catch (error) {
    console.error(error);
  }
}

function sendError(socket: WebSocket, id: string, message: string) {
  socket.send(JSON.stringify({ id, type: 'error', payload: [{ message, extensions: { code: 'NOT_FOUND' } }] }));
}

/** connection_init carries the token; messageAdded checks membership as Parley's does (the chat read with the join). */
function onSocket(socket: WebSocket) {
  let viewer: Viewer | undefined;
  const subscriptions: [Map<string, Map<WebSocket, string>>, string][] = [];
  const listen = (registry: Map<string, Map<WebSocket, string>>, key: string, id: string) => {
    if (!registry.has(key)) registry.set(key, new Map());
    registry.get(key)!.set(socket, id);
    subscriptions.push([registry, key]);
  };
  const stop = () => subscriptions.forEach(([registry, key]) => registry.get(key)?.delete(socket));
  socket.on('message', async (raw) => {
    const message = JSON.parse(raw.toString());
    if (message.type === 'connection_init') {
      viewer = await authenticate(message.payload?.authorization).catch(() => undefined);
      if (viewer) socket.send('{"type":"connection_ack"}');
      else socket.close(4403, 'Forbidden');
    } else if (message.type === 'ping') socket.send('{"type":"pong"}');
    else if (message.type === 'subscribe' && viewer) {
      if (/\binboxUpdated\b/.test(message.payload.query)) return listen(inboxes, user(viewer), message.id);
      const chatId = message.payload.variables.chatId as string;
      const chat = UUID.test(chatId) ? (await chatsById([chatId], viewer)).get(chatId) : undefined;
      if (chat && !sequencers.has(chatId)) sequencers.set(chatId, { next: chat.message_count + 1, held: new Map() });
      if (chat) listen(subscribers, chatId, message.id);
      else sendError(socket, message.id, `chat ${chatId} does not exist`);
    } else if (message.type === 'complete') stop();
  });
  socket.on('close', stop);
}

const server = createServer((req, res) => void handle(req, res));
new WebSocketServer({ server, path: '/graphql' }).on('connection', onSocket);
server.listen(Number(args.port), args.host, () => console.log(`baseline listening on ${args.port}`));
const stop = () => void pool.end().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
