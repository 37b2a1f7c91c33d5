import { ChatMessagesDocument, MessagesDocument, PostMessageDocument } from './generated/graphql';
import type { MessagesQuery, MessagesQueryVariables } from './generated/graphql';
import { range, startChat } from '../src/testing/fixtures';
import { dataOf, startTestApp, type TestApp } from '../src/testing/harness';

const TOTAL = 237;
let t: TestApp;
let chatId: string;
let emptyChatId: string;

beforeAll(async () => {
  t = await startTestApp();
  chatId = (await startChat(t, { sender: 'p', text: 'm1' })).id;
  for (let i = 2; i <= TOTAL; i++) {
    dataOf(await t.request(PostMessageDocument, { input: { chatId, sender: 'p', text: `m${i}` } }));
  }
  emptyChatId = (await startChat(t)).id;
});
afterAll(() => t.close());

async function page(variables: Omit<MessagesQueryVariables, 'chatId'>): Promise<MessagesQuery['messages']> {
  return dataOf(await t.request(MessagesDocument, { chatId, ...variables })).messages;
}

it('pages forward across the whole chat with no gap or overlap, ascending on every page', async () => {
  const seen: number[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 10; pages++) {
    const p = await page({ first: 50, after });
    const seqs = p.nodes.map((n) => n.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(p.edges.map((e) => e.node.seq)).toEqual(seqs);
    expect(p.pageInfo.hasPreviousPage).toBe(seen.length > 0);
    seen.push(...seqs);
    expect(p.pageInfo.hasNextPage).toBe(seen.length < TOTAL);
    if (!p.pageInfo.hasNextPage) break;
    after = p.pageInfo.endCursor!;
  }
  expect(seen).toEqual(range(1, TOTAL));
});

it('pages backward from the newest with no gap or overlap, ascending within each page', async () => {
  const seen: number[] = [];
  let before: string | null = null;
  for (let pages = 0; pages < 10; pages++) {
    const p = await page({ last: 40, before });
    const seqs = p.nodes.map((n) => n.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(p.pageInfo.hasNextPage).toBe(seen.length > 0);
    seen.unshift(...seqs);
    expect(p.pageInfo.hasPreviousPage).toBe(seen.length < TOTAL);
    if (!p.pageInfo.hasPreviousPage) break;
    before = p.pageInfo.startCursor!;
  }
  expect(seen).toEqual(range(1, TOTAL));
});

it('returns the first 50 from the oldest when neither first nor last is given', async () => {
  const p = await page({});
  expect(p.nodes.map((n) => n.seq)).toEqual(range(1, 50));
  expect(p.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
  expect(p.nodes[0]).toMatchObject({ chatId, text: 'm1', sender: 'p' });
});

it('combines after and before into the messages strictly between them', async () => {
  const from = (await page({ first: 10 })).edges[9].cursor; // seq 10
  const to = (await page({ first: 20 })).edges[19].cursor; // seq 20
  const p = await page({ after: from, before: to });
  expect(p.nodes.map((n) => n.seq)).toEqual(range(11, 19));
  expect(p.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
  const tail = await page({ after: from, before: to, last: 3 });
  expect(tail.nodes.map((n) => n.seq)).toEqual([17, 18, 19]);
});

it('answers an empty page with exact pageInfo past the end and for an empty chat', async () => {
  const end = await page({ last: 1 });
  const past = await page({ after: end.pageInfo.endCursor });
  expect(past.nodes).toEqual([]);
  expect(past.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null });
  const empty = dataOf(await t.request(MessagesDocument, { chatId: emptyChatId, last: 5 })).messages;
  expect(empty.nodes).toEqual([]);
  expect(empty.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
});

it('serves the same pages through Chat.messages', async () => {
  const { chat } = dataOf(await t.request(ChatMessagesDocument, { id: chatId, last: 3 }));
  expect(chat?.messages.nodes.map((n) => n.seq)).toEqual([235, 236, 237]);
  expect(chat?.messages.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true });
});

it('allows up to 500 per page', async () => {
  expect((await page({ first: 500 })).nodes).toHaveLength(TOTAL);
});
