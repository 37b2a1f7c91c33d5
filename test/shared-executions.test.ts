import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import type { Client } from 'graphql-ws';
import { StartChatWithDocument, SayDocument } from './generated/graphql';
import { createSchema } from '../src/graphql/schema';
import { Metrics } from '../src/metrics/metrics';
import { sameForEveryViewer } from '../src/graphql/subscribe';
import { createAppPubSub } from '../src/pubsub/pubsub';
import { dataOf, startTestApp, type TestApp } from '../src/testing/harness';
import { connect, subscribe } from '../src/testing/subscriber';

// Subscribers of one event share its execution; across viewers only when the selection cannot differ between them.
describe('which subscriptions share one execution per event across viewers', () => {
  const metrics = new Metrics();
  const handle = createAppPubSub(metrics);
  afterAll(async () => {
    await handle.close();
    metrics.close();
  });
  const shared = async (query: string) => sameForEveryViewer({ schema: await createSchema(handle.pubSub, metrics), document: parse(query) });

  it('plain properties of the event: shared by every viewer', async () => {
    expect(await shared('subscription { messageAdded(chatId: "x") { id chatId seq sender text system createdAt clientMessageId __typename } }')).toBe(true);
    expect(await shared('subscription S { inboxUpdated { chatId reason } }')).toBe(true);
  });

  it('anything read for the viewer, or not plainly a property: per viewer', async () => {
    expect(await shared('subscription { messageAdded(chatId: "x") { seq chat { id } } }')).toBe(false);
    expect(await shared('subscription { inboxUpdated { chatId chat { unreadCount } } }')).toBe(false);
    expect(await shared('subscription { messageAdded(chatId: "x") { ...M } } fragment M on Message { seq }')).toBe(false);
    expect(await shared('subscription { messageAdded(chatId: "x") { ... on Message { seq } } }')).toBe(false);
  });
});

type Added = { messageAdded: { seq: number; text: string; chat?: { viewerLastReadSeq: number; unreadCount: number } } };
const PLAIN = parse('subscription Plain($chatId: ID!) { messageAdded(chatId: $chatId, afterSeq: 0) { seq text } }') as TypedDocumentNode<Added, { chatId: string }>;
const WITH_CHAT = parse(
  'subscription WithChat($chatId: ID!) { messageAdded(chatId: $chatId, afterSeq: 0) { seq text chat { viewerLastReadSeq unreadCount } } }',
) as TypedDocumentNode<Added, { chatId: string }>;

describe('two members following one chat', () => {
  let t: TestApp;
  const clients: Client[] = [];
  beforeAll(async () => (t = await startTestApp()));
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await t.close();
  });

  it('get the same messages, and each its own read marker where the selection asks for it', async () => {
    const { id } = dataOf(await t.as('alice').request(StartChatWithDocument, { firstMessage: { text: 'one' }, members: ['bob'] })).startChat;
    const follow = async (user: string, document: TypedDocumentNode<Added, { chatId: string }>) => {
      const client = connect(t.wsUrl, { token: await t.token(user) });
      clients.push(client);
      return subscribe(client, document, { chatId: id }, (data) => data.messageAdded);
    };
    const feeds = await Promise.all([follow('alice', PLAIN), follow('bob', PLAIN), follow('alice', WITH_CHAT), follow('bob', WITH_CHAT)]);
    // Once each has replayed seq 1, all four are live at one position: seq 2 reaches them as one event (one read).
    await Promise.all(feeds.map((feed) => feed.until((m) => m.seq === 1)));
    dataOf(await t.as('alice').request(SayDocument, { chatId: id, text: 'two' }));
    const [alicePlain, bobPlain, aliceChat, bobChat] = await Promise.all(feeds.map((feed) => feed.until((m) => m.seq === 2)));
    expect(alicePlain).toEqual([{ seq: 1, text: 'one' }, { seq: 2, text: 'two' }]);
    expect(bobPlain).toEqual(alicePlain);
    // alice posted both (her marker moved with each post); bob has read nothing.
    expect(aliceChat[1].chat).toEqual({ viewerLastReadSeq: 2, unreadCount: 0 });
    expect(bobChat[1].chat).toEqual({ viewerLastReadSeq: 0, unreadCount: 2 });
  });
});
