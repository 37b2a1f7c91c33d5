import type { Client } from 'graphql-ws';
import { InboxUpdatedDocument, type InboxUpdatedSubscription, StartChatWithDocument } from './generated/graphql';
import { INBOX_FAN_OUT } from '../src/modules/member/member.repository';
import { inboxLive } from '../src/testing/fixtures';
import { dataOf, startTestApp, type TestApp } from '../src/testing/harness';
import { connect, type Feed, subscribe } from '../src/testing/subscriber';

let t: TestApp;
let client: Client;
let inbox: Feed<InboxUpdatedSubscription['inboxUpdated']>;
const statements: string[] = [];

beforeAll(async () => {
  t = await startTestApp({}, { onQuery: (sql) => statements.push(sql) });
  client = connect(t.wsUrl, { token: await t.token('bob') });
  inbox = subscribe(client, InboxUpdatedDocument, {}, (data) => data.inboxUpdated);
  await inboxLive(t, 'bob', inbox);
});
afterAll(async () => {
  await client.dispose();
  await t.close();
});

// startChat stores the chat with its members, so the first message's inbox doorbells go to those members without
// looking them up again after the answer (a post into an existing chat does look them up: tagged INBOX_FAN_OUT).
it('startChat with a first message rings JOINED and MESSAGE for its members without a member lookup', async () => {
  statements.length = 0;
  const { id } = dataOf(await t.as('alice').request(StartChatWithDocument, { firstMessage: { text: 'hi' }, members: ['bob', 'carol'] })).startChat;
  const updates = await inbox.until((u) => u.chatId === id && u.reason === 'MESSAGE');
  expect(updates.filter((u) => u.chatId === id).map((u) => u.reason)).toEqual(['JOINED', 'MESSAGE']);
  expect(statements.filter((sql) => sql.includes(INBOX_FAN_OUT))).toEqual([]);
});
