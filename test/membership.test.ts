import {
  AddMembersDocument,
  ChatsDocument,
  ChatWithMembersDocument,
  LastMessageDocument,
  LeaveChatDocument,
  MarkReadDocument,
  MessageAddedDocument,
  MessagesDocument,
  MyChatsDocument,
  RemoveMembersDocument,
  SayDocument,
  StartChatWithDocument,
} from './generated/graphql';
import { range, UNKNOWN_CHAT_ID } from '../src/testing/fixtures';
import { dataOf, type GraphQLResponse, startTestApp, type TestApp } from '../src/testing/harness';
import { connect, subscribe } from '../src/testing/subscriber';

let t: TestApp;
beforeAll(async () => (t = await startTestApp()));
afterAll(() => t.close());

const as = (userId: string) => t.as(userId);
const codeOf = (response: GraphQLResponse<unknown>) => response.errors?.map((e) => e.extensions?.code);

async function aliceAndBob(text = 'hello bob'): Promise<string> {
  return dataOf(await as('alice').request(StartChatWithDocument, { firstMessage: { text }, members: ['bob'] })).startChat.id;
}

describe('a chat started by alice with bob', () => {
  it('makes alice its OWNER (having read her first message) and bob a MEMBER with one unread', async () => {
    const { startChat } = dataOf(await as('alice').request(StartChatWithDocument, { firstMessage: { text: 'hi' }, members: ['bob', 'bob'] }));
    expect(startChat).toMatchObject({ messageCount: 1, viewerLastReadSeq: 1, unreadCount: 0 });
    expect(startChat.members.map(({ userId, role, lastReadSeq }) => [userId, role, lastReadSeq])).toEqual([
      ['alice', 'OWNER', 1],
      ['bob', 'MEMBER', 0],
    ]);
    expect(dataOf(await as('bob').request(ChatWithMembersDocument, { id: startChat.id })).chat).toMatchObject({
      viewerLastReadSeq: 0,
      unreadCount: 1,
    });
  });

  it("posts under the poster's own id, moves the poster's marker and the chat's activity", async () => {
    const chatId = await aliceAndBob();
    const before = dataOf(await as('bob').request(ChatWithMembersDocument, { id: chatId })).chat!;
    const { postMessage } = dataOf(await as('bob').request(SayDocument, { chatId, text: 'hi alice' }));
    expect(postMessage).toMatchObject({ seq: 2, sender: 'bob', system: false, chat: { viewerLastReadSeq: 2, unreadCount: 0 } });
    expect(Date.parse(postMessage.chat.lastActivityAt)).toBeGreaterThanOrEqual(Date.parse(before.lastActivityAt));
    expect(dataOf(await as('alice').request(ChatWithMembersDocument, { id: chatId })).chat).toMatchObject({ unreadCount: 1 });
    expect(dataOf(await as('bob').request(SayDocument, { chatId, text: 'me again', sender: 'bob' })).postMessage.sender).toBe('bob');
  });

  it.each([
    ['under another sender', { sender: 'alice' }],
    ['as a system message', { system: true }],
  ])('refuses a user posting %s with FORBIDDEN, storing nothing', async (_name, variables) => {
    const chatId = await aliceAndBob();
    expect(codeOf(await as('bob').request(SayDocument, { chatId, text: 'x', ...variables }))).toEqual(['FORBIDDEN']);
    expect(dataOf(await as('alice').request(ChatWithMembersDocument, { id: chatId })).chat?.messageCount).toBe(1);
  });

  it('lets a service see it (without a read marker) and post system messages under any sender', async () => {
    const chatId = await aliceAndBob();
    const { postMessage } = dataOf(await t.request(SayDocument, { chatId, text: 'joined', sender: 'system', system: true }));
    expect(postMessage).toMatchObject({ seq: 2, sender: 'system', system: true, chat: { viewerLastReadSeq: 0, unreadCount: 0 } });
    expect(codeOf(await t.request(SayDocument, { chatId, text: 'who am I' }))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('an outsider', () => {
  const unknownAndHidden = async (chatId: string, run: (id: string) => Promise<GraphQLResponse<unknown>>) => {
    const [unknown, hidden] = [await run(UNKNOWN_CHAT_ID), await run(chatId)];
    const blank = (r: GraphQLResponse<unknown>) => JSON.stringify(r).replaceAll(chatId, 'ID').replaceAll(UNKNOWN_CHAT_ID, 'ID');
    expect(blank(hidden)).toBe(blank(unknown));
    return hidden;
  };

  it.each([
    ['chat', (id: string) => as('eve').request(ChatWithMembersDocument, { id }), null],
    ['chats', (id: string) => as('eve').request(ChatsDocument, { ids: [id] }), null],
    ['messages', (id: string) => as('eve').request(MessagesDocument, { chatId: id }), 'NOT_FOUND'],
    ['lastMessage', (id: string) => as('eve').request(LastMessageDocument, { chatId: id }), 'NOT_FOUND'],
    ['postMessage', (id: string) => as('eve').request(SayDocument, { chatId: id, text: 'let me in' }), 'NOT_FOUND'],
    ['markRead', (id: string) => as('eve').request(MarkReadDocument, { chatId: id, seq: 1 }), 'NOT_FOUND'],
    ['addMembers', (id: string) => as('eve').request(AddMembersDocument, { chatId: id, userIds: ['eve'] }), 'NOT_FOUND'],
    ['removeMembers', (id: string) => as('eve').request(RemoveMembersDocument, { chatId: id, userIds: ['bob'] }), 'NOT_FOUND'],
    ['leaveChat', (id: string) => as('eve').request(LeaveChatDocument, { chatId: id }), 'NOT_FOUND'],
  ])('gets from %s exactly what an unknown id gives', async (_name, run, code) => {
    const chatId = await aliceAndBob();
    const response = await unknownAndHidden(chatId, run);
    expect(codeOf(response) ?? null).toEqual(code && [code]);
    expect(dataOf(await as('alice').request(ChatWithMembersDocument, { id: chatId })).chat).toMatchObject({
      messageCount: 1,
      members: [{ userId: 'alice' }, { userId: 'bob' }],
    });
  });

  it('cannot follow the chat live: messageAdded ends with NOT_FOUND, as for an unknown id', async () => {
    const chatId = await aliceAndBob();
    const client = connect(t.wsUrl, { token: await t.token('eve') });
    try {
      const endings = await Promise.all(
        [chatId, UNKNOWN_CHAT_ID].map((id) => subscribe(client, MessageAddedDocument, { chatId: id, afterSeq: 0 }, (d) => d.messageAdded).ended),
      );
      const codes = endings.map((errors) => (errors as { extensions: { code: string } }[]).map((e) => e.extensions.code));
      expect(codes).toEqual([['NOT_FOUND'], ['NOT_FOUND']]);
    } finally {
      await client.dispose();
    }
  });

  it('does not see chats created by a service without members, which the service still sees', async () => {
    const { startChat } = dataOf(await t.request(StartChatWithDocument, { firstMessage: { sender: 'legacy', text: 'old' } }));
    expect(dataOf(await as('alice').request(ChatWithMembersDocument, { id: startChat.id })).chat).toBeNull();
    expect(dataOf(await t.request(ChatWithMembersDocument, { id: startChat.id })).chat).toMatchObject({ members: [] });
  });
});

describe('membership changes', () => {
  it('the OWNER adds and removes members; a MEMBER may not', async () => {
    const chatId = await aliceAndBob();
    expect(codeOf(await as('bob').request(AddMembersDocument, { chatId, userIds: ['carol'] }))).toEqual(['FORBIDDEN']);
    const added = dataOf(await as('alice').request(AddMembersDocument, { chatId, userIds: ['carol', 'bob'] })).addMembers;
    expect(added.members.map((m) => [m.userId, m.role])).toEqual([['alice', 'OWNER'], ['bob', 'MEMBER'], ['carol', 'MEMBER']]);
    expect(dataOf(await as('carol').request(ChatWithMembersDocument, { id: chatId })).chat?.messageCount).toBe(1);
    const removed = dataOf(await as('alice').request(RemoveMembersDocument, { chatId, userIds: ['carol'] })).removeMembers;
    expect(removed.members.map((m) => m.userId)).toEqual(['alice', 'bob']);
    expect(codeOf(await as('carol').request(MessagesDocument, { chatId }))).toEqual(['NOT_FOUND']);
  });

  it('caps a call at 100 ids and a chat at 1,000 members', async () => {
    const chatId = await aliceAndBob();
    const ids = (from: number, count: number) => range(from, from + count - 1).map((i) => `user-${i}`);
    expect(codeOf(await t.request(AddMembersDocument, { chatId, userIds: ids(0, 101) }))).toEqual(['BAD_USER_INPUT']);
    for (let call = 0; call < 9; call++) dataOf(await t.request(AddMembersDocument, { chatId, userIds: ids(call * 100, 100) }));
    dataOf(await t.request(AddMembersDocument, { chatId, userIds: ids(900, 98) }));
    const over = await t.request(AddMembersDocument, { chatId, userIds: ids(998, 2) });
    expect(codeOf(over)).toEqual(['BAD_USER_INPUT']);
    expect(over.errors?.[0].message).toMatch(/at most 1000 members/);
    expect(dataOf(await t.request(ChatWithMembersDocument, { id: chatId })).chat?.members).toHaveLength(1000);
  });

  it('leaveChat takes the caller out; its next read is NOT_FOUND', async () => {
    const chatId = await aliceAndBob();
    expect(dataOf(await as('bob').request(LeaveChatDocument, { chatId })).leaveChat).toBe(true);
    expect(codeOf(await as('bob').request(LastMessageDocument, { chatId }))).toEqual(['NOT_FOUND']);
    expect(codeOf(await as('bob').request(LeaveChatDocument, { chatId }))).toEqual(['NOT_FOUND']);
  });

  it("a removed member's open messageAdded ends with NOT_FOUND", async () => {
    const chatId = await aliceAndBob();
    const client = connect(t.wsUrl, { token: await t.token('bob') });
    try {
      const feed = subscribe(client, MessageAddedDocument, { chatId, afterSeq: 0 }, (d) => d.messageAdded);
      await feed.until((m) => m.seq === 1);
      dataOf(await as('alice').request(RemoveMembersDocument, { chatId, userIds: ['bob'] }));
      const errors = (await feed.ended) as { extensions: { code: string } }[];
      expect(errors.map((e) => e.extensions.code)).toEqual(['NOT_FOUND']);
    } finally {
      await client.dispose();
    }
  });
});

describe('myChats', () => {
  it('pages the caller’s chats by activity, and its cursors stay valid while chats move', async () => {
    const user = `inbox-${Date.now()}`;
    const chats: string[] = [];
    for (const i of range(1, 5)) {
      chats.push(dataOf(await as(user).request(StartChatWithDocument, { firstMessage: { text: `chat ${i}` } })).startChat.id);
    }
    const page = async (after?: string | null) => dataOf(await as(user).request(MyChatsDocument, { first: 2, after })).myChats;
    const first = await page();
    expect(first.nodes.map((c) => c.id)).toEqual([chats[4], chats[3]]);
    dataOf(await as(user).request(SayDocument, { chatId: chats[0], text: 'bump' })); // chat 1 moves to the top
    const second = await page(first.pageInfo.endCursor);
    expect(second.nodes.map((c) => c.id)).toEqual([chats[2], chats[1]]);
    const third = await page(second.pageInfo.endCursor);
    expect([third.nodes.map((c) => c.id), third.pageInfo.hasNextPage]).toEqual([[], false]);
    const fresh = dataOf(await as(user).request(MyChatsDocument, {})).myChats;
    expect(fresh.nodes.map((c) => c.id)).toEqual([chats[0], chats[4], chats[3], chats[2], chats[1]]);
    expect(fresh.nodes[0].lastMessage?.text).toBe('bump');
  });

  it('refuses a page over 100 and a malformed cursor', async () => {
    expect(codeOf(await as('alice').request(MyChatsDocument, { first: 101 }))).toEqual(['BAD_USER_INPUT']);
    expect(codeOf(await as('alice').request(MyChatsDocument, { after: 'bm9wZQ' }))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('markRead', () => {
  it('only moves forward, also under concurrent calls', async () => {
    const chatId = await aliceAndBob();
    for (const i of range(2, 20)) dataOf(await as('alice').request(SayDocument, { chatId, text: `m${i}` }));
    const seqs = range(1, 20).sort(() => Math.random() - 0.5);
    await Promise.all(seqs.map((seq) => as('bob').request(MarkReadDocument, { chatId, seq }).then(dataOf)));
    dataOf(await as('bob').request(MarkReadDocument, { chatId, seq: 3 }));
    expect(dataOf(await as('bob').request(ChatWithMembersDocument, { id: chatId })).chat).toMatchObject({ viewerLastReadSeq: 20, unreadCount: 0 });
  });

  it('refuses a seq below 0 or past the newest message', async () => {
    const chatId = await aliceAndBob();
    for (const seq of [-1, 2]) expect(codeOf(await as('bob').request(MarkReadDocument, { chatId, seq }))).toEqual(['BAD_USER_INPUT']);
  });
});
