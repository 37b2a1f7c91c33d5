import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { MessageAddedDocument, MessageAddedWithChatDocument, PostMessageDocument } from './generated/graphql';
import { follow, postMessages, range, reached, seqsOf, startChat, UNKNOWN_CHAT_ID } from '../src/testing/fixtures';
import { startTestApp, type TestApp } from '../src/testing/harness';
import { connect, connectWithSocket, subscribe } from '../src/testing/subscriber';
import { WS_MAX_PAYLOAD } from '../src/server/ws';

let t: TestApp;
const clients: Client[] = [];
beforeAll(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.dispose()));
});
afterAll(() => t.close());

function client(): Client {
  const c = connect(t.wsUrl);
  clients.push(c);
  return c;
}

const newChat = async () => (await startChat(t)).id;
const post = (chatId: string, count: number, concurrency = 1) => postMessages(t, chatId, count, concurrency);

describe('messageAdded on one instance', () => {
  it('delivers the 100 messages posted after subscribing, each once, in seq order', async () => {
    const chatId = await newChat();
    const feed = follow(client(), chatId, 0);
    const posted = await post(chatId, 100, 8);
    await feed.until(reached(100));
    expect(seqsOf(feed.items)).toEqual(range(1, 100));
    expect(feed.items).toEqual(posted.map(({ id, seq, text }) => ({ id, seq, text, chatId })));
  });

  it('without afterSeq starts with the messages committed after subscribing, with no gap', async () => {
    const chatId = await newChat();
    await post(chatId, 3);
    const feed = follow(client(), chatId);
    // The subscription has no acknowledgement: post until the first message arrives, then 20 more.
    const first = feed.until(() => true);
    let posted = 3;
    for (let attempts = 0; attempts < 500 && feed.items.length === 0; attempts++) {
      await Promise.race([post(chatId, 1), first]);
      posted += 1;
    }
    await first;
    await post(chatId, 20);
    const last = (await feed.until(reached(posted + 20))).at(-1)!.seq;
    expect(feed.items[0].seq).toBeGreaterThan(3);
    expect(seqsOf(feed.items)).toEqual(range(feed.items[0].seq, last));
  });

  it('afterSeq replays the stored messages, then goes live without gap or repeat while another client posts', async () => {
    const chatId = await newChat();
    await post(chatId, 250, 4);
    const posting = post(chatId, 150, 3); // runs during the subscribe and the replay
    const feed = follow(client(), chatId, 10);
    await posting;
    await feed.until(reached(400));
    expect(seqsOf(feed.items)).toEqual(range(11, 400));
  });

  it('200 subscribers of one chat each receive every message in order', async () => {
    const chatId = await newChat();
    const feeds = Array.from({ length: 200 }, () => follow(client(), chatId, 0));
    await post(chatId, 30, 4);
    await Promise.all(feeds.map((feed) => feed.until(reached(30))));
    for (const feed of feeds) expect(seqsOf(feed.items)).toEqual(range(1, 30));
  });

  it('a subscriber whose connection is cut resumes with afterSeq and ends with the full sequence', async () => {
    const chatId = await newChat();
    const first = await connectWithSocket(t.wsUrl);
    clients.push(first.client);
    const before = follow(first.client, chatId, 0);
    const posting = post(chatId, 120, 2);
    await before.until(reached(30));
    first.socket.terminate();
    await before.ended;
    const lastSeen = before.items.at(-1)!.seq;
    const after = follow(client(), chatId, lastSeen);
    await posting;
    await after.until(reached(120));
    expect([...seqsOf(before.items), ...seqsOf(after.items)]).toEqual(range(1, 120));
  });

  it("gives each event fresh state: Message.chat shows the chat's count at that event", async () => {
    const chatId = await newChat();
    const feed = subscribe(client(), MessageAddedWithChatDocument, { chatId, afterSeq: 0 }, (data) => data.messageAdded);
    for (let seq = 1; seq <= 5; seq++) {
      await post(chatId, 1);
      await feed.until(reached(seq));
    }
    expect(feed.items).toEqual(range(1, 5).map((seq) => ({ seq, chat: { id: chatId, messageCount: seq } })));
  });
});

describe('messageAdded errors arrive as protocol error messages', () => {
  it.each([
    ['an unknown chat', 'NOT_FOUND', { chatId: UNKNOWN_CHAT_ID }, /does not exist/],
    ['a malformed chat id', 'BAD_USER_INPUT', { chatId: 'not-a-uuid' }, /chatId must be a UUID/],
    ['a negative afterSeq', 'BAD_USER_INPUT', { afterSeq: -1 }, /afterSeq must be an integer >= 0/],
    ['an afterSeq past the newest message', 'BAD_USER_INPUT', { afterSeq: 5 }, /after the chat's newest message/],
  ])('%s is %s, and the socket stays usable', async (_case, code, variables, message) => {
    const chatId = await newChat();
    const c = client();
    const failing = subscribe(c, MessageAddedDocument, { chatId, ...variables }, (data) => data.messageAdded);
    expect(await failing.ended).toEqual([expect.objectContaining({ message: expect.stringMatching(message), extensions: { code } })]);
    expect(failing.items).toEqual([]);
    const working = follow(c, chatId, 0);
    await post(chatId, 1);
    expect(seqsOf(await working.until(reached(1)))).toEqual([1]);
  });

  it('a variable of the wrong type is BAD_USER_INPUT', async () => {
    const chatId = await newChat();
    const failing = subscribe(client(), MessageAddedDocument, { chatId, afterSeq: 'one' as never }, (data) => data);
    expect(await failing.ended).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } })]);
  });

  const errorsOf = (c: Client, query: string) =>
    new Promise((resolve) => c.subscribe({ query }, { next: resolve, error: resolve, complete: () => resolve('completed') }));

  it('the HTTP limits apply: a too-deep subscription is GRAPHQL_VALIDATION_FAILED, too many tokens GRAPHQL_PARSE_FAILED', async () => {
    const chatId = await newChat();
    const deep = `subscription { messageAdded(chatId: "${chatId}") { ${'chat { lastMessage { '.repeat(6)}seq${' } }'.repeat(6)} } }`;
    expect(await errorsOf(client(), deep)).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }) }),
    ]);
    const long = `subscription { messageAdded(chatId: "${chatId}") { ${'seq '.repeat(5000)}} }`;
    expect(await errorsOf(client(), long)).toEqual([
      expect.objectContaining({ message: expect.stringContaining('5000 tokens'), extensions: { code: 'GRAPHQL_PARSE_FAILED' } }),
    ]);
  });

  it('with introspection off (production) the socket refuses __schema as HTTP does', async () => {
    const production = await startTestApp({ NODE_ENV: 'production' });
    const c = connect(production.wsUrl);
    try {
      expect(await errorsOf(c, '{ __schema { queryType { name } } }')).toContainEqual(
        expect.objectContaining({ message: expect.stringContaining('introspection has been disabled'), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
      );
    } finally {
      await c.dispose();
      await production.close();
    }
  });
});

describe('the websocket endpoint', () => {
  it(`closes a socket that sends a message larger than ${WS_MAX_PAYLOAD} bytes (1009)`, async () => {
    // graphql-ws reports the socket's error on console.error before ws closes it with 1009.
    const consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const socket = new WebSocket(t.wsUrl, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(WS_MAX_PAYLOAD) } }));
    const [code] = await new Promise<[number]>((resolve) => socket.once('close', (c) => resolve([c])));
    consoleError.mockRestore();
    expect(code).toBe(1009);
  });

  it('closes a socket that does not send connection_init in time (4408)', async () => {
    const socket = new WebSocket(t.wsUrl, 'graphql-transport-ws');
    const [code] = await new Promise<[number]>((resolve) => socket.once('close', (c) => resolve([c])));
    expect(code).toBe(4408);
  });

  it('closing the app closes every socket with 1001 Going away, subscriptions included', async () => {
    const other = await startTestApp();
    const { client: c, socket } = await connectWithSocket(other.wsUrl);
    const chatId = (await startChat(other)).id;
    const feed = subscribe(c, MessageAddedDocument, { chatId, afterSeq: 0 }, (data) => data.messageAdded);
    await other.request(PostMessageDocument, { input: { chatId, sender: 's', text: 't' } });
    await feed.until(reached(1));
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    await other.close();
    expect(await closed).toBe(1001);
    await c.dispose();
  });
});
