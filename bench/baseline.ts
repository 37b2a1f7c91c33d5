/**
 * The ceiling Parley is measured against: node:http + pg, hand-written SQL, no GraphQL library and no ORM.
 * It accepts the bench's GraphQL request bodies, dispatches on operationName and answers the same JSON as Parley,
 * doing the same database work (same statements, same row lock and transaction for seq allocation).
 * For W7 it speaks just enough of graphql-transport-ws to broadcast each committed message to a chat's sockets.
 *
 *   node dist/bench/baseline.js --port 4100 --database-url postgresql://... --pool 10
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool, type PoolClient } from 'pg';
import { WebSocketServer, type WebSocket } from 'ws';

const { values: args } = parseArgs({
  options: { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, 'database-url': { type: 'string' }, pool: { type: 'string', default: '10' } },
});
const pool = new Pool({ connectionString: args['database-url'], max: Number(args.pool) });

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

class BadRequest extends Error {}

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
function newMessage(input: any): NewMessage {
  if (typeof input?.text !== 'string' || !input.text.trim() || input.text.length > 4000) throw new BadRequest('bad text');
  if (typeof input.sender !== 'string' || !input.sender.trim() || input.sender.length > 100) throw new BadRequest('bad sender');
  return { sender: input.sender, text: input.text, system: input.system ?? false, clientMessageId: input.clientMessageId ?? null };
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

/** The same statements as Parley's MessageService and ChatService (see there for why they are correct). */
const INSERT_NEXT = `
  with chat as (update chat set message_count = message_count + 1 where id = $1 returning message_count)
  insert into message (id, chat_id, seq, sender, text, system, created_at, client_message_id)
  select $2, $1, message_count, $3, $4, $5, $6, $7 from chat
  returning seq`;
const INSERT_CHAT = 'insert into chat (id, created_at, message_count) values ($1, $2, 0)';
const INSERT_CHAT_WITH_MESSAGE = `
  with chat as (insert into chat (id, created_at, message_count) values ($1, $2, 1) returning id)
  insert into message (id, chat_id, seq, sender, text, system, created_at, client_message_id)
  select $3, id, 1, $4, $5, $6, $7, $8 from chat`;

async function insertNext(client: Pool | PoolClient, m: MessageRow): Promise<MessageRow> {
  const { rows } = await client.query(INSERT_NEXT, [m.chat_id, m.id, m.sender, m.text, m.system, m.created_at, m.client_message_id]);
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

async function postMessage({ input }: any) {
  const chatId = uuid(input?.chatId, 'chatId');
  const content = newMessage(input);
  const draft: MessageRow = {
    id: randomUUID(), chat_id: chatId, seq: 0, sender: content.sender, text: content.text, system: content.system,
    created_at: new Date(), client_message_id: content.clientMessageId,
  };
  const { message, created } =
    content.clientMessageId === null
      ? { message: await insertNext(pool, draft), created: true }
      : await transaction(async (client) => {
          const { rows } = await client.query('select 1 from chat where id = $1 for update', [chatId]);
          if (!rows[0]) throw new BadRequest(`chat ${chatId} does not exist`);
          const stored = await client.query('select * from message where chat_id = $1 and client_message_id = $2', [chatId, content.clientMessageId]);
          if (stored.rows[0]) return { message: stored.rows[0] as MessageRow, created: false };
          return { message: await insertNext(client, draft), created: true };
        });
  if (created) broadcast(message);
  return { postMessage: messageJson(message) };
}

async function startChat({ firstMessage }: any) {
  const content = firstMessage ? newMessage(firstMessage) : null;
  const chat = { id: randomUUID(), created_at: new Date(), message_count: content ? 1 : 0 };
  if (content) {
    await pool.query(INSERT_CHAT_WITH_MESSAGE, [
      chat.id, chat.created_at, randomUUID(), content.sender, content.text, content.system, chat.created_at, content.clientMessageId,
    ]);
  } else {
    await pool.query(INSERT_CHAT, [chat.id, chat.created_at]);
  }
  return { startChat: { id: chat.id, createdAt: chat.created_at.toISOString(), messageCount: chat.message_count } };
}

async function chatsById(ids: string[]): Promise<Map<string, { id: string; message_count: number }>> {
  const { rows } = await pool.query('select * from chat where id = any($1::uuid[])', [ids]);
  return new Map(rows.map((row) => [row.id, row]));
}

/** The newest message of each chat (by its message_count), in one statement. */
async function newestMessages(chats: { id: string; message_count: number }[]): Promise<Map<string, MessageRow>> {
  const withMessages = chats.filter((chat) => chat.message_count > 0);
  if (withMessages.length === 0) return new Map();
  const { rows } = await pool.query(
    `select m.* from message m join unnest($1::uuid[], $2::int[]) as k(chat_id, seq) on m.chat_id = k.chat_id and m.seq = k.seq`,
    [withMessages.map((c) => c.id), withMessages.map((c) => c.message_count)],
  );
  return new Map(rows.map((row: MessageRow) => [row.chat_id, row]));
}

async function chats({ ids }: any) {
  if (!Array.isArray(ids) || ids.length > 100) throw new BadRequest('ids must list at most 100 chats');
  ids.forEach((id, i) => uuid(id, `ids[${i}]`));
  const found = await chatsById(ids);
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

async function existingChat(chatId: string) {
  const chat = (await chatsById([uuid(chatId, 'chatId')])).get(chatId);
  if (!chat) throw new BadRequest(`chat ${chatId} does not exist`);
  return chat;
}

async function lastMessage({ chatId }: any) {
  const chat = await existingChat(chatId);
  const m = (await newestMessages([chat])).get(chat.id);
  return { lastMessage: m ? { id: m.id, seq: m.seq, sender: m.sender, text: m.text, createdAt: m.created_at.toISOString() } : null };
}

const cursor = (seq: number) => Buffer.from(`seq:${seq}`).toString('base64url');

/** `messages(chatId, last: 50)`: the seq window follows from message_count, because seqs are gap-free. */
async function lastPage({ chatId }: any) {
  const chat = await existingChat(chatId);
  const start = Math.max(1, chat.message_count - 49);
  const end = chat.message_count;
  const { rows } = await pool.query<MessageRow>(
    'select * from message where chat_id = $1 and seq >= $2 and seq <= $3 order by seq asc',
    [chat.id, start, end],
  );
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

const operations: Record<string, (variables: any) => Promise<unknown>> = {
  PostMessage: postMessage,
  StartChat: startChat,
  Chats: chats,
  LastMessage: lastMessage,
  LastPage: lastPage,
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
    const { operationName, variables } = JSON.parse(Buffer.concat(chunks).toString());
    const operation = operations[operationName];
    if (!operation) return send(res, 400, { errors: [{ message: `unknown operation ${operationName}` }] });
    send(res, 200, { data: await operation(variables ?? {}) });
  } catch (error) {
    const message = error instanceof BadRequest ? error.message : 'Internal server error';
    if (!(error instanceof BadRequest)) console.error(error);
    send(res, 200, { errors: [{ message }] });
  }
}

// ---- W7: a plain broadcast over ws, framed as graphql-transport-ws so the same client measures both targets ----

const subscribers = new Map<string, Map<WebSocket, string>>();

function broadcast(m: MessageRow) {
  const sockets = subscribers.get(m.chat_id);
  if (!sockets) return;
  const payload = JSON.stringify({
    data: { messageAdded: { id: m.id, chatId: m.chat_id, seq: m.seq, sender: m.sender, text: m.text, createdAt: m.created_at.toISOString() } },
  });
  for (const [socket, id] of sockets) socket.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`);
}

function onSocket(socket: WebSocket) {
  let chatId: string | undefined;
  socket.on('message', (raw) => {
    const message = JSON.parse(raw.toString());
    if (message.type === 'connection_init') socket.send('{"type":"connection_ack"}');
    else if (message.type === 'ping') socket.send('{"type":"pong"}');
    else if (message.type === 'subscribe') {
      chatId = message.payload.variables.chatId as string;
      if (!subscribers.has(chatId)) subscribers.set(chatId, new Map());
      subscribers.get(chatId)!.set(socket, message.id);
    } else if (message.type === 'complete' && chatId) subscribers.get(chatId)?.delete(socket);
  });
  socket.on('close', () => chatId && subscribers.get(chatId)?.delete(socket));
}

const server = createServer((req, res) => void handle(req, res));
new WebSocketServer({ server, path: '/graphql' }).on('connection', onSocket);
server.listen(Number(args.port), args.host, () => console.log(`baseline listening on ${args.port}`));
const stop = () => void pool.end().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
