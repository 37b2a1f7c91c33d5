import { ChatDocument, MessagesDocument, PostMessageDocument } from './generated/graphql';
import { range, startChat } from '../src/testing/fixtures';
import { dataOf, startTestApp, type TestApp } from '../src/testing/harness';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ DB_POOL_SIZE: '20' });
});
afterAll(() => t.close());

const newChat = async () => (await startChat(t)).id;

async function allSeqs(chatId: string): Promise<number[]> {
  const { messages } = dataOf(await t.request(MessagesDocument, { chatId, first: 500 }));
  return messages.nodes.map((m) => m.seq);
}

it('300 concurrent posts to one chat get seqs 1..300, each exactly once', async () => {
  const chatId = await newChat();
  const responses = await Promise.all(
    range(1, 300).map((i) => t.request(PostMessageDocument, { input: { chatId, sender: 'load', text: `m${i}` } })),
  );
  const seqs = responses.map((r) => dataOf(r).postMessage.seq).sort((a, b) => a - b);
  expect(seqs).toEqual(range(1, 300));
  expect(await allSeqs(chatId)).toEqual(range(1, 300));
  expect(dataOf(await t.request(ChatDocument, { id: chatId })).chat?.messageCount).toBe(300);
});

it('100 identical concurrent posts with one clientMessageId store one message and all get it back', async () => {
  const chatId = await newChat();
  const input = { chatId, sender: 'retry', text: 'only once', clientMessageId: 'same-key' };
  const responses = await Promise.all(range(1, 100).map(() => t.request(PostMessageDocument, { input })));
  const messages = responses.map((r) => dataOf(r).postMessage);
  expect(new Set(messages.map((m) => m.id)).size).toBe(1);
  expect(messages.map((m) => m.seq)).toEqual(messages.map(() => 1));
  expect(await allSeqs(chatId)).toEqual([1]);
});

it('keyed and unkeyed posts racing on one chat stay gap-free, one message per key', async () => {
  const chatId = await newChat();
  const posts = range(1, 200).map((i) =>
    t.request(PostMessageDocument, {
      input: i % 2
        ? { chatId, sender: 'mix', text: `keyed ${i % 10}`, clientMessageId: `key-${i % 10}` }
        : { chatId, sender: 'mix', text: `m${i}` },
    }),
  );
  const messages = (await Promise.all(posts)).map((r) => dataOf(r).postMessage);
  // 100 unkeyed posts + 5 distinct keys (1, 3, 5, 7, 9)
  expect(await allSeqs(chatId)).toEqual(range(1, 105));
  const byKey = new Map<string, Set<string>>();
  for (const m of messages.filter((m) => m.clientMessageId)) {
    byKey.set(m.clientMessageId!, (byKey.get(m.clientMessageId!) ?? new Set()).add(m.id));
  }
  expect([...byKey.values()].map((ids) => ids.size)).toEqual([1, 1, 1, 1, 1]);
});

it('concurrent posts to many chats number each chat independently', async () => {
  const chats = await Promise.all(range(1, 10).map(() => newChat()));
  await Promise.all(
    chats.flatMap((chatId) => range(1, 20).map((i) => t.request(PostMessageDocument, { input: { chatId, sender: 's', text: `${i}` } }))),
  );
  for (const chatId of chats) expect(await allSeqs(chatId)).toEqual(range(1, 20));
});
