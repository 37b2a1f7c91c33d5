import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

/**
 * The data set every target starts from (see seed.ts). `BENCH_CHATS` (run.ts sets it for `--scale`'s database)
 * makes the small chats many more; users, members per chat and everything else stay as they are.
 */
export const DATA = {
  chats: Number(process.env.BENCH_CHATS ?? 1000),
  messagesPerChat: 20,
  bigChatMessages: 10_000,
  /** `user-0` … `user-999`: the members of the small chats, 2–3 per chat. */
  users: 1000,
  /** Members of each of the fan-out chats (W7, W9): the most a chat may have. */
  crowd: 1000,
  /** Chats of READER: what `myChats` pages through. */
  readerChats: 500,
  /** W10: this many chats of `roomSize` members each, every member on a socket of its own. */
  rooms: 2000,
  roomSize: 5,
} as const;

/** Seeded chats have predictable ids, so the load process needs no fixture: small chat i is `chatId(i)`. */
export function chatId(index: number): string {
  return `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
}

/** The chats with a role of their own, apart from the small chats whatever their number. */
export function specialChatId(index: number): string {
  return `00000000-0000-4000-9000-${index.toString(16).padStart(12, '0')}`;
}

export const BIG_CHAT = specialChatId(0);
export const HOT_CHAT = chatId(0);
/** W7's chat: DATA.crowd members `w7-<k>`, no messages. */
export const W7_CHAT = specialChatId(1);
/** W9's chat: DATA.crowd members `inbox-<k>`, no messages. */
export const INBOX_CHAT = specialChatId(2);
/** W10's chat r (of DATA.rooms): DATA.roomSize members `room-<r>-<k>`, no messages. */
export const roomChat = (r: number) => specialChatId(3 + r);
export const roomMember = (r: number, k: number) => `room-${r}-${k}`;

// ---- who is a member of what (seed.ts stores it; the load processes act as these users) ----

/**
 * Small chat i has 2–3 members: `user-<i>` (its OWNER), `user-<i+1>` and, for even i, `user-<i+2>` (mod 1,000 users),
 * so each user is in 2–3 chats (250 at `--scale`). READER is also a member of 500 chats, every `readerStride`-th
 * from chat 0 (chats 0–499 on the small data set; W4 asks for 50 of them, W8 pages them). The big chat has two members.
 */
export const READER = 'reader';
export const membersOf = (i: number): string[] =>
  [i, i + 1, ...(i % 2 === 0 ? [i + 2] : [])].map((j) => `user-${j % DATA.users}`);
export const readerStride = (chats: number) => Math.max(1, Math.floor(chats / 1000));
export const readerChat = (k: number) => chatId(k * readerStride(DATA.chats));
export const BIG_CHAT_MEMBERS = ['big-0', 'big-1'];
export const crowdMember = (prefix: 'w7' | 'inbox', k: number) => `${prefix}-${k % DATA.crowd}`;

/** Bearer tokens as a client holds them: signed once per user (HS256, like Parley's), reused for every request. */
export class Tokens {
  private readonly key: Uint8Array;
  private readonly signed = new Map<string, string>();

  constructor(secret = process.env.BENCH_AUTH_SECRET) {
    if (!secret) throw new Error('BENCH_AUTH_SECRET is not set (run.ts passes the secret it gives the servers)');
    this.key = new TextEncoder().encode(secret);
  }

  /** Signs the tokens of `users` ahead of time, so that `header` can be called synchronously. */
  async prepare(users: Iterable<string>): Promise<void> {
    for (const user of users) {
      if (this.signed.has(user)) continue;
      const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(user).setIssuedAt().setExpirationTime('3h').sign(this.key);
      this.signed.set(user, jwt);
    }
  }

  header(user: string): string {
    const jwt = this.signed.get(user);
    if (!jwt) throw new Error(`no token prepared for ${user}`);
    return `Bearer ${jwt}`;
  }
}

export type WorkloadName = 'W1' | 'W2' | 'W2k' | 'W3' | 'W4' | 'W5' | 'W6' | 'W8';

export interface GraphQLBody {
  operationName: string;
  query: string;
  variables: Record<string, unknown>;
}

/** One request of a workload, made by `user`, and a check of its `data`: returns what is wrong, or null. */
export interface Exchange {
  user: string;
  body: GraphQLBody;
  check(data: unknown): string | null;
}

export interface Workload {
  name: WorkloadName;
  title: string;
  /** Every user the workload acts as (their tokens are signed before it starts). */
  users: string[];
  next(): Exchange;
}

// ---- the operations (the baseline dispatches on operationName and answers the same selections) ----

const MESSAGE_FIELDS = 'id chatId seq sender text system createdAt clientMessageId';

export const OPERATIONS = {
  PostMessage: `mutation PostMessage($input: PostMessageInput!) { postMessage(input: $input) { ${MESSAGE_FIELDS} } }`,
  LastPage: `query LastPage($chatId: ID!) { messages(chatId: $chatId, last: 50) { nodes { id seq sender text createdAt } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`,
  Chats: `query Chats($ids: [ID!]!) { chats(ids: $ids) { id messageCount lastMessage { text sender createdAt } } }`,
  LastMessage: `query LastMessage($chatId: ID!) { lastMessage(chatId: $chatId) { id seq sender text createdAt } }`,
  StartChat: `mutation StartChat($firstMessage: NewMessageInput) { startChat(firstMessage: $firstMessage) { id createdAt messageCount } }`,
  MessageAdded: `subscription MessageAdded($chatId: ID!, $afterSeq: Int) { messageAdded(chatId: $chatId, afterSeq: $afterSeq) { id chatId seq sender text createdAt } }`,
  MyChats: `query MyChats { myChats(first: 20) { nodes { id lastActivityAt unreadCount lastMessage { text } } } }`,
  InboxUpdated: `subscription InboxUpdated { inboxUpdated { chatId reason chat { id lastActivityAt unreadCount lastMessage { text } } } }`,
} as const;

export type OperationName = keyof typeof OPERATIONS;

// ---- shape checks: exact key sets and value types, so both targets must answer the same JSON ----

type Shape = 'string' | 'int' | 'boolean' | 'iso' | 'uuid' | 'string?' | { [key: string]: Shape } | [Shape] | { nullable: Shape };

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function mismatch(value: unknown, shape: Shape, path = 'data'): string | null {
  if (typeof shape === 'string') {
    const ok = {
      string: typeof value === 'string',
      'string?': value === null || typeof value === 'string',
      int: Number.isInteger(value),
      boolean: typeof value === 'boolean',
      iso: typeof value === 'string' && ISO.test(value),
      uuid: typeof value === 'string' && UUID.test(value),
    }[shape];
    return ok ? null : `${path}: expected ${shape}, got ${JSON.stringify(value)?.slice(0, 80)}`;
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return `${path}: expected a list`;
    for (const [i, item] of value.entries()) {
      const problem = mismatch(item, shape[0], `${path}[${i}]`);
      if (problem) return problem;
    }
    return null;
  }
  if ('nullable' in shape && Object.keys(shape).length === 1) {
    return value === null ? null : mismatch(value, shape.nullable as Shape, path);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${path}: expected an object`;
  const keys = Object.keys(value).join(',');
  const expected = Object.keys(shape).join(',');
  if (keys !== expected) return `${path}: keys ${keys}, expected ${expected}`;
  for (const [key, inner] of Object.entries(shape as Record<string, Shape>)) {
    const problem = mismatch((value as Record<string, unknown>)[key], inner, `${path}.${key}`);
    if (problem) return problem;
  }
  return null;
}

export const MESSAGE_SHAPE = {
  id: 'uuid', chatId: 'uuid', seq: 'int', sender: 'string', text: 'string', system: 'boolean', createdAt: 'iso', clientMessageId: 'string?',
} as const satisfies Shape;

export const ADDED_SHAPE = { id: 'uuid', chatId: 'uuid', seq: 'int', sender: 'string', text: 'string', createdAt: 'iso' } as const satisfies Shape;

const PAGE_SHAPE = {
  nodes: [{ id: 'uuid', seq: 'int', sender: 'string', text: 'string', createdAt: 'iso' }],
  pageInfo: { hasNextPage: 'boolean', hasPreviousPage: 'boolean', startCursor: 'string?', endCursor: 'string?' },
} as const satisfies Shape;

const CHATS_SHAPE = [
  { nullable: { id: 'uuid', messageCount: 'int', lastMessage: { nullable: { text: 'string', sender: 'string', createdAt: 'iso' } } } },
] as const satisfies Shape;

const LAST_SHAPE = { nullable: { id: 'uuid', seq: 'int', sender: 'string', text: 'string', createdAt: 'iso' } } as const satisfies Shape;

const STARTED_SHAPE = { id: 'uuid', createdAt: 'iso', messageCount: 'int' } as const satisfies Shape;

export const INBOX_CHAT_SHAPE = { id: 'uuid', lastActivityAt: 'iso', unreadCount: 'int', lastMessage: { nullable: { text: 'string' } } } as const satisfies Shape;

const MY_CHATS_SHAPE = { nodes: [INBOX_CHAT_SHAPE] } as const satisfies Shape;

export const INBOX_UPDATE_SHAPE = { chatId: 'uuid', reason: 'string', chat: { nullable: INBOX_CHAT_SHAPE } } as const satisfies Shape;

// ---- the workloads ----

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];
const randomIndex = () => Math.floor(Math.random() * DATA.chats);
const randomReaderChat = () => readerChat(Math.floor(Math.random() * DATA.readerChats));
const allUsers = Array.from({ length: DATA.users }, (_, i) => `user-${i}`);

/** First the shape, then the facts that show the answer belongs to this request. */
function checked(shape: Shape, facts: (data: any) => string | null) {
  return (data: unknown) => mismatch(data, shape) ?? facts(data);
}

/** A user's post: without `sender`, which the token decides; keyed, as a retrying mobile client posts, when asked. */
function post(chat: string, user: string, keyed = false): Exchange {
  const text = `bench ${randomUUID()}`;
  const clientMessageId = keyed ? randomUUID() : null;
  const input = { chatId: chat, text, ...(keyed && { clientMessageId }) };
  return {
    user,
    body: { operationName: 'PostMessage', query: OPERATIONS.PostMessage, variables: { input } },
    check: checked({ postMessage: MESSAGE_SHAPE }, ({ postMessage: m }) =>
      m.chatId === chat && m.text === text && m.sender === user && m.clientMessageId === clientMessageId && m.seq > DATA.messagesPerChat
        ? null
        : `postMessage answered ${JSON.stringify(m)}`,
    ),
  };
}

export const WORKLOADS: Record<WorkloadName, Workload> = {
  W1: {
    name: 'W1',
    title: 'postMessage, random chat',
    users: allUsers,
    next: () => {
      const i = randomIndex();
      return post(chatId(i), pick(membersOf(i)));
    },
  },
  W2: { name: 'W2', title: 'postMessage, one hot chat', users: membersOf(0), next: () => post(HOT_CHAT, pick(membersOf(0))) },
  W2k: {
    name: 'W2k',
    title: 'postMessage with clientMessageId, hot chat',
    users: membersOf(0),
    next: () => post(HOT_CHAT, pick(membersOf(0)), true),
  },
  W3: {
    name: 'W3',
    title: 'last 50 of the 10k chat',
    users: BIG_CHAT_MEMBERS,
    next: () => ({
      user: pick(BIG_CHAT_MEMBERS),
      body: { operationName: 'LastPage', query: OPERATIONS.LastPage, variables: { chatId: BIG_CHAT } },
      check: checked({ messages: PAGE_SHAPE }, ({ messages: { nodes } }) =>
        nodes.length === 50 && nodes[49].seq === DATA.bigChatMessages ? null : `page of ${nodes.length} ending at ${nodes.at(-1)?.seq}`,
      ),
    }),
  },
  W4: {
    name: 'W4',
    title: 'chats(50 ids) + lastMessage',
    users: [READER],
    next: () => {
      const ids = Array.from({ length: 50 }, randomReaderChat);
      return {
        user: READER,
        body: { operationName: 'Chats', query: OPERATIONS.Chats, variables: { ids } },
        check: checked({ chats: CHATS_SHAPE }, ({ chats }) =>
          chats.every((c: any, i: number) => c?.id === ids[i] && c.lastMessage) ? null : 'chats out of order or missing',
        ),
      };
    },
  },
  W5: {
    name: 'W5',
    title: 'lastMessage, random chat',
    users: allUsers,
    next: () => {
      const i = randomIndex();
      return {
        user: pick(membersOf(i)),
        body: { operationName: 'LastMessage', query: OPERATIONS.LastMessage, variables: { chatId: chatId(i) } },
        check: checked({ lastMessage: LAST_SHAPE }, ({ lastMessage }) => (lastMessage ? null : 'lastMessage is null')),
      };
    },
  },
  W6: {
    name: 'W6',
    title: 'startChat + first message',
    users: allUsers,
    next: () => ({
      user: pick(allUsers),
      body: { operationName: 'StartChat', query: OPERATIONS.StartChat, variables: { firstMessage: { text: 'hello' } } },
      check: checked({ startChat: STARTED_SHAPE }, ({ startChat }) => (startChat.messageCount === 1 ? null : 'messageCount is not 1')),
    }),
  },
  W8: {
    name: 'W8',
    title: 'myChats(first: 20), 500 chats',
    users: [READER],
    next: () => ({
      user: READER,
      body: { operationName: 'MyChats', query: OPERATIONS.MyChats, variables: {} },
      check: checked({ myChats: MY_CHATS_SHAPE }, ({ myChats: { nodes } }) => {
        if (nodes.length !== 20) return `myChats gave ${nodes.length} chats`;
        const at = nodes.map((c: any) => Date.parse(c.lastActivityAt));
        if (at.some((t: number, k: number) => k > 0 && t > at[k - 1])) return 'myChats not by lastActivityAt desc';
        return nodes.every((c: any) => c.lastMessage) ? null : 'a chat without lastMessage';
      }),
    }),
  },
};

/** Checks a whole GraphQL response body: `errors` or a wrong `data` is a failure. */
export function checkResponse(exchange: Exchange, status: number, body: string): string | null {
  if (status !== 200) return `HTTP ${status}: ${body.slice(0, 200)}`;
  let parsed: { data?: unknown; errors?: unknown[] };
  try {
    parsed = JSON.parse(body);
  } catch {
    return `not JSON: ${body.slice(0, 200)}`;
  }
  if (parsed.errors?.length) return `errors: ${JSON.stringify(parsed.errors).slice(0, 300)}`;
  return exchange.check(parsed.data);
}
