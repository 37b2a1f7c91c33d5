import {
  InboxUpdatedDocument,
  type InboxUpdatedSubscription,
  MarkReadDocument,
  RemoveMembersDocument,
  SayDocument,
  StartChatWithDocument,
} from './generated/graphql';
import { inboxLive } from '../src/testing/fixtures';
import { dataOf, startTestApp, type TestApp } from '../src/testing/harness';
import { connect, type Feed, subscribe } from '../src/testing/subscriber';
import type { Client } from 'graphql-ws';

let t: TestApp;
let client: Client;
let inbox: Feed<InboxUpdatedSubscription['inboxUpdated']>;

beforeAll(async () => {
  t = await startTestApp();
  client = connect(t.wsUrl, { token: await t.token('alice') });
  inbox = subscribe(client, InboxUpdatedDocument, {}, (data) => data.inboxUpdated);
  await inboxLive(t, 'alice', inbox);
});
afterAll(async () => {
  await client.dispose();
  await t.close();
});

const next = (chatId: string, reason: string) => inbox.until((u) => u.chatId === chatId && u.reason === reason).then((all) => all.at(-1)!);

it('JOINED when another user starts a chat with the caller, with the chat as the caller sees it', async () => {
  const { id } = dataOf(await t.as('carol').request(StartChatWithDocument, { firstMessage: { text: 'hi alice' }, members: ['alice'] })).startChat;
  expect(await next(id, 'JOINED')).toMatchObject({ chat: { id, messageCount: 1, viewerLastReadSeq: 0, unreadCount: 1 } });
});

it('MESSAGE when a member posts, and READ when the caller reads on another device', async () => {
  const { id } = dataOf(await t.as('carol').request(StartChatWithDocument, { members: ['alice'] })).startChat;
  dataOf(await t.as('carol').request(SayDocument, { chatId: id, text: 'news' }));
  expect(await next(id, 'MESSAGE')).toMatchObject({ chat: { messageCount: 1, unreadCount: 1 } });
  dataOf(await t.as('alice').request(MarkReadDocument, { chatId: id, seq: 1 }));
  expect(await next(id, 'READ')).toMatchObject({ chat: { viewerLastReadSeq: 1, unreadCount: 0 } });
});

it('LEFT, with chat null, when the caller is removed', async () => {
  const { id } = dataOf(await t.as('carol').request(StartChatWithDocument, { members: ['alice'] })).startChat;
  dataOf(await t.as('carol').request(RemoveMembersDocument, { chatId: id, userIds: ['alice'] }));
  expect(await next(id, 'LEFT')).toEqual({ chatId: id, reason: 'LEFT', chat: null });
});

it("nothing about chats the caller is not in", async () => {
  const { id: theirs } = dataOf(await t.as('carol').request(StartChatWithDocument, { firstMessage: { text: 'private' }, members: ['dave'] })).startChat;
  dataOf(await t.as('dave').request(SayDocument, { chatId: theirs, text: 'just us' }));
  const { id: ours } = dataOf(await t.as('carol').request(StartChatWithDocument, { members: ['alice'] })).startChat;
  await next(ours, 'JOINED'); // published after everything above
  expect(inbox.items.filter((u) => u.chatId === theirs)).toEqual([]);
});
