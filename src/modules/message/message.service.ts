import { randomUUID } from 'node:crypto';
import type { EntityManager, Transaction } from '@mikro-orm/postgresql';
import { DomainError, notFound, uuidOf } from '../../errors';
import { toRows } from '../../db/rows';
import type { Loaders } from '../../graphql/loaders';
import type { AppPubSub } from '../../pubsub/pubsub';
import type { Chat } from '../chat/chat.entity';
import { Message } from './message.entity';
import { encodeCursor, type NewMessage, type PageRequest, seqWindow, validateMessage } from './message.rules';

export interface PostMessage extends NewMessage {
  chatId: string;
}

export interface MessagePage {
  edges: { cursor: string; node: Message }[];
  nodes: Message[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/**
 * Takes the chat's next seq and stores the message in one statement. The UPDATE holds the chat's row lock until
 * commit, so concurrent posts get consecutive seqs in commit order; no row back means there is no such chat.
 */
/** The insert both write paths share; what follows it supplies the values in this order. */
export const INSERT_MESSAGE =
  'insert into "message" ("id", "chat_id", "seq", "sender", "text", "system", "created_at", "client_message_id")';

const INSERT_NEXT = `
  with chat as (update "chat" set "message_count" = "message_count" + 1 where "id" = ? returning "message_count")
  ${INSERT_MESSAGE}
  select ?, ?, "message_count", ?, ?, ?, ?, ? from chat
  returning "seq"`;

type Posted = { message: Message; created: boolean };

/** Runs written-out SQL, inside `trx` when given. */
type Sql = (query: string, params: unknown[]) => Promise<Record<string, any>[]>;

/**
 * Not em.transactional: that one would switch on AsyncLocalStorage, which then tracks every promise of the process
 * for good (a few percent of all CPU; see bench/README.md). The connection's own transactions do not.
 */
function sqlIn(em: EntityManager, trx?: Transaction): Sql {
  return (query, params) => em.getConnection().execute(query, params, 'all', trx);
}

/**
 * A retry must repeat the message it retries: a key reused for other content is a client bug it should hear of
 * (as Stripe answers a reused idempotency key), not a silent answer with the earlier message.
 */
function sameContent(stored: Message, retry: Message): Message {
  if (stored.sender === retry.sender && stored.text === retry.text && stored.system === retry.system) return stored;
  throw new DomainError(
    'IDEMPOTENCY_KEY_REUSED',
    `clientMessageId "${retry.clientMessageId}" was already used in this chat for a different message (seq ${stored.seq}); ` +
      'use a new key for a new message',
  );
}

export class MessageService {
  constructor(private readonly pubSub: AppPubSub) {}

  /** Stores a message and answers once it is committed; publishes it only when it is new. */
  async post(em: EntityManager, input: PostMessage): Promise<Message> {
    const chatId = uuidOf(input.chatId, 'chatId');
    const content = validateMessage(input);
    const draft: Message = { id: randomUUID(), chatId, seq: 0, ...content, createdAt: new Date() };
    const { message, created }: Posted =
      content.clientMessageId === null
        ? { message: await this.insertNext(sqlIn(em), draft), created: true }
        : await em.getConnection().transactional((trx) => this.insertOnce(em, sqlIn(em, trx), draft));
    if (created) this.announce(message);
    return message;
  }

  /**
   * With an idempotency key: the chat row is locked first, so the key is checked against everything committed
   * before, and concurrent posts with one key store one message.
   */
  private async insertOnce(em: EntityManager, sql: Sql, draft: Message): Promise<Posted> {
    const [chat] = await sql('select 1 from "chat" where "id" = ? for update', [draft.chatId]);
    if (!chat) throw notFound(`chat ${draft.chatId} does not exist`);
    const keyed = 'select * from "message" where "chat_id" = ? and "client_message_id" = ?';
    const [stored] = await sql(keyed, [draft.chatId, draft.clientMessageId]);
    if (stored) return { message: sameContent(toRows(em, Message, [stored])[0], draft), created: false };
    return { message: await this.insertNext(sql, draft), created: true };
  }

  private async insertNext(sql: Sql, draft: Message): Promise<Message> {
    const { id, chatId, sender, text, system, createdAt, clientMessageId } = draft;
    const [row] = await sql(INSERT_NEXT, [chatId, id, chatId, sender, text, system, createdAt, clientMessageId]);
    if (!row) throw notFound(`chat ${chatId} does not exist`);
    draft.seq = row.seq;
    return draft;
  }

  /** Publishes a committed message to its chat's subscribers. */
  announce(message: Message): void {
    this.pubSub.publish('MESSAGE_ADDED', message.chatId, { chatId: message.chatId, seq: message.seq });
  }

  async page(loaders: Loaders, chat: Chat, request: PageRequest): Promise<MessagePage> {
    const { start, end } = seqWindow(chat.messageCount, request);
    const nodes = start > end ? [] : await loaders.messageRange.load({ chatId: chat.id, start, end });
    const edges = nodes.map((node) => ({ cursor: encodeCursor(node.seq), node }));
    return {
      edges,
      nodes,
      pageInfo: {
        hasPreviousPage: Math.min(start - 1, chat.messageCount) >= 1,
        hasNextPage: end < chat.messageCount,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
    };
  }

  async last(loaders: Loaders, chat: Chat): Promise<Message | null> {
    if (chat.messageCount === 0) return null;
    const [message] = await loaders.messageRange.load({ chatId: chat.id, start: chat.messageCount, end: chat.messageCount });
    return message ?? null;
  }
}
