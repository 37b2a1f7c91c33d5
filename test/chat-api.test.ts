import { ChatDocument, ChatsDocument, LastMessageDocument, PostMessageDocument } from './generated/graphql';
import { startChat as startChatOn, UNKNOWN_CHAT_ID } from '../src/testing/fixtures';
import { dataOf, startTestApp, type TestApp } from '../src/testing/harness';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const startChat = (text?: string) => startChatOn(t, text === undefined ? undefined : { sender: 'ann', text });

describe('startChat', () => {
  it('creates an empty chat with a UUID, an ISO-8601 UTC createdAt and no messages', async () => {
    const chat = await startChat();
    expect(chat.id).toMatch(UUID);
    expect(chat.createdAt).toMatch(ISO_UTC_MS);
    expect(chat.messageCount).toBe(0);
    expect(chat.lastMessage).toBeNull();
  });

  it('stores the first message with seq 1 in the same transaction', async () => {
    const chat = await startChat('hello');
    expect(chat.messageCount).toBe(1);
    expect(chat.lastMessage).toMatchObject({ seq: 1, text: 'hello', sender: 'ann', system: false, chatId: chat.id });
    const again = dataOf(await t.request(ChatDocument, { id: chat.id })).chat;
    expect(again?.lastMessage?.id).toBe(chat.lastMessage?.id);
  });
});

describe('postMessage', () => {
  it('answers with the stored message, numbered after the ones before it', async () => {
    const chat = await startChat('one');
    const input = { chatId: chat.id, sender: 'bob', text: 'two', system: true, clientMessageId: 'c-2' };
    const message = dataOf(await t.request(PostMessageDocument, { input })).postMessage;
    expect(message).toMatchObject({ seq: 2, sender: 'bob', text: 'two', system: true, clientMessageId: 'c-2', chatId: chat.id });
    expect(message.id).toMatch(UUID);
    expect(message.createdAt).toMatch(ISO_UTC_MS);
    const stored = dataOf(await t.request(ChatDocument, { id: chat.id })).chat;
    expect(stored).toMatchObject({ messageCount: 2, lastMessage: message });
  });

  it('returns the one stored message for a retry with the same clientMessageId', async () => {
    const chat = await startChat();
    const input = { chatId: chat.id, sender: 'bob', text: 'once', clientMessageId: 'retry-me' };
    const first = dataOf(await t.request(PostMessageDocument, { input })).postMessage;
    const retry = dataOf(await t.request(PostMessageDocument, { input })).postMessage;
    expect(retry).toEqual(first);
    expect(dataOf(await t.request(ChatDocument, { id: chat.id })).chat?.messageCount).toBe(1);
  });

  it('scopes clientMessageId to its chat', async () => {
    const [a, b] = [await startChat(), await startChat()];
    const post = (chatId: string) => t.request(PostMessageDocument, { input: { chatId, sender: 's', text: 't', clientMessageId: 'k' } });
    const inA = dataOf(await post(a.id)).postMessage;
    const inB = dataOf(await post(b.id)).postMessage;
    expect(inA.id).not.toBe(inB.id);
    expect([inA.seq, inB.seq]).toEqual([1, 1]);
  });
});

describe('reading', () => {
  it('chat(id) is null for an unknown chat', async () => {
    const response = await t.request(ChatDocument, { id: UNKNOWN_CHAT_ID });
    expect(response.errors).toBeUndefined();
    expect(response.data?.chat).toBeNull();
  });

  it('chats(ids) answers in the order of ids with null for unknown ones', async () => {
    const [a, b] = [await startChat('a'), await startChat()];
    const { chats } = dataOf(await t.request(ChatsDocument, { ids: [b.id, UNKNOWN_CHAT_ID, a.id, b.id] }));
    expect(chats.map((c) => c?.id ?? null)).toEqual([b.id, null, a.id, b.id]);
    expect(chats[2]?.lastMessage).toMatchObject({ text: 'a', sender: 'ann', chat: { id: a.id } });
    expect(chats[0]?.lastMessage).toBeNull();
  });

  it('lastMessage is the message with the highest seq, null for an empty chat', async () => {
    const chat = await startChat('first');
    expect(dataOf(await t.request(LastMessageDocument, { chatId: (await startChat()).id })).lastMessage).toBeNull();
    for (const text of ['second', 'third']) {
      await t.request(PostMessageDocument, { input: { chatId: chat.id, sender: 'x', text } });
    }
    expect(dataOf(await t.request(LastMessageDocument, { chatId: chat.id })).lastMessage).toMatchObject({ seq: 3, text: 'third' });
  });
});
