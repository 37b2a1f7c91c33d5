import { ChatsDocument, PostMessageDocument, StartChatDocument } from './generated/graphql';
import { INBOX_FAN_OUT } from '../src/modules/member/member.repository';
import { dataOf, startTestApp, type TestApp } from '../src/testing/harness';

let t: TestApp;
const statements: string[] = [];
const chatIds: string[] = [];

beforeAll(async () => {
  // A post rings its members' inboxes after answering; those lookups belong to no request counted here.
  t = await startTestApp({}, { onQuery: (sql) => sql.includes(INBOX_FAN_OUT) || statements.push(sql) });
  for (let i = 0; i < 100; i++) {
    const { id } = dataOf(await t.request(StartChatDocument, { firstMessage: { sender: 'a', text: `first ${i}` } })).startChat;
    await t.request(PostMessageDocument, { input: { chatId: id, sender: 'b', text: `last ${i}` } });
    chatIds.push(id);
  }
});
afterAll(() => t.close());

async function statementsFor(ids: string[]) {
  statements.length = 0;
  const { chats } = dataOf(await t.request(ChatsDocument, { ids }));
  return { chats, count: statements.length };
}

it('chats(ids) for 100 chats with lastMessage and lastMessage.chat costs two SQL statements', async () => {
  const { chats, count } = await statementsFor(chatIds);
  expect(chats.map((c) => c?.lastMessage?.text)).toEqual(chatIds.map((_, i) => `last ${i}`));
  expect(chats.map((c) => c?.lastMessage?.chat.id)).toEqual(chatIds);
  expect(count).toBe(2);
});

it('costs the same number of statements for 1, 10 and 100 chats', async () => {
  const counts = [];
  for (const n of [1, 10, 100]) counts.push((await statementsFor(chatIds.slice(0, n))).count);
  expect(counts).toEqual([2, 2, 2]);
});
