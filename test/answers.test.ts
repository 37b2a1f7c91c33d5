import { ChatDocument, MessageAddedDocument, PostMessageDocument, StartChatDocument } from './generated/graphql';
import { dataOf, startTestApp, type TestApp } from '../src/testing/harness';
import { connect, subscribe } from '../src/testing/subscriber';

let t: TestApp;
beforeAll(async () => (t = await startTestApp()));
afterAll(() => t.close());

async function chatWith(texts: string[]): Promise<string> {
  const { id } = dataOf(await t.request(StartChatDocument, { firstMessage: { sender: 'ann', text: texts[0] } })).startChat;
  for (const text of texts.slice(1)) dataOf(await t.request(PostMessageDocument, { input: { chatId: id, sender: 'bob', text } }));
  return id;
}

describe('overlapping ranges of one chat in one request', () => {
  it('the chat screen query (lastMessage and a page) lists every message once', async () => {
    const id = await chatWith(['one', 'two']);
    const query = `query($id: ID!) { chat(id: $id) { lastMessage { seq } messages { nodes { seq } } } }`;
    const { chat } = dataOf(await t.request<any, any>(query, { id }));
    expect(chat.lastMessage.seq).toBe(2);
    expect(chat.messages.nodes.map((n: { seq: number }) => n.seq)).toEqual([1, 2]);
  });

  it('aliased pages that overlap each get exactly their own range', async () => {
    const id = await chatWith(['1', '2', '3', '4', '5']);
    const query = `query($id: ID!) { chat(id: $id) {
      all: messages { nodes { seq } } head: messages(first: 3) { nodes { seq } }
      tail: messages(last: 2) { nodes { seq } } lastMessage { seq } } }`;
    const { chat } = dataOf(await t.request<any, any>(query, { id }));
    const seqs = (page: { nodes: { seq: number }[] }) => page.nodes.map((n) => n.seq);
    expect([seqs(chat.all), seqs(chat.head), seqs(chat.tail), chat.lastMessage.seq]).toEqual([[1, 2, 3, 4, 5], [1, 2, 3], [4, 5], 5]);
  });
});

describe('chat ids in any case', () => {
  it('a post with the upper-case id answers the canonical id and reaches subscribers of the lower-case id', async () => {
    const id = await chatWith(['first']);
    const client = connect(t.wsUrl);
    try {
      const feed = subscribe(client, MessageAddedDocument, { chatId: id, afterSeq: 1 }, (data) => data.messageAdded);
      const posted = dataOf(await t.request(PostMessageDocument, { input: { chatId: id.toUpperCase(), sender: 'bob', text: 'LOUD' } }));
      expect(posted.postMessage).toMatchObject({ chatId: id, seq: 2 });
      const [delivered] = await feed.until((m) => m.seq === 2);
      expect(delivered).toMatchObject({ chatId: id, seq: 2, text: 'LOUD' });
    } finally {
      await client.dispose();
    }
  });

  it('chat(id) with the upper-case id finds the chat and answers the lower-case id', async () => {
    const id = await chatWith(['first']);
    expect(dataOf(await t.request(ChatDocument, { id: id.toUpperCase() })).chat).toMatchObject({ id, messageCount: 1 });
  });
});

describe('a clientMessageId reused for different content', () => {
  const keyed = (chatId: string, change: Partial<{ sender: string; text: string; system: boolean }> = {}) =>
    t.request(PostMessageDocument, { input: { chatId, sender: 'bob', text: 'hello', clientMessageId: 'k-1', ...change } });

  it.each([
    ['text', { text: 'goodbye' }],
    ['sender', { sender: 'eve' }],
    ['system', { system: true }],
  ])('with another %s is IDEMPOTENCY_KEY_REUSED and stores nothing', async (_field, change) => {
    const id = await chatWith(['first']);
    const stored = dataOf(await keyed(id)).postMessage;
    const reused = await keyed(id, change);
    expect(reused.data).toBeNull();
    expect(reused.errors?.map((e) => e.extensions?.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(reused.errors?.[0].message).toMatch(/clientMessageId "k-1" was already used .* \(seq 2\)/);
    expect(dataOf(await t.request(ChatDocument, { id })).chat?.messageCount).toBe(stored.seq);
  });

  it('an identical retry still answers the stored message', async () => {
    const id = await chatWith(['first']);
    const stored = dataOf(await keyed(id)).postMessage;
    expect(dataOf(await keyed(id)).postMessage).toEqual(stored);
  });
});
